import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import type {
  PreparedKeys,
  RejectionReason,
  SignatureVerifier,
  TrustedKey,
  VerifyOutcome,
} from '../../src/pgp/types.js';
import {
  evaluateSignatures,
  pipelineSignaturePolicy,
  requireSignatures,
  type SignaturePolicyInput,
} from '../../src/pipeline/signature-policy.js';

/**
 * A fake verifier at our own interface: a "signature" is the text `ok:<FPR>` (valid, by FPR) or
 * `<reason>:<issuer>` (rejected). It records every payload it was asked to check.
 */
function fakeVerifier(): SignatureVerifier & { payloads: string[] } {
  const payloads: string[] = [];
  return {
    payloads,
    async prepare(keys: readonly TrustedKey[]): Promise<PreparedKeys> {
      const names = new Map<string, string[]>();
      for (const k of keys) names.set(k.publicKey, [...(names.get(k.publicKey) ?? []), k.name]);
      return { count: names.size, namesByFingerprint: names, unusable: [] };
    },
    async verifyDetached(signature, payload): Promise<VerifyOutcome> {
      payloads.push(Buffer.from(payload).toString());
      const text = typeof signature === 'string' ? signature : Buffer.from(signature).toString();
      const [verdict = '', value = ''] = text.trim().split(':');
      if (verdict === 'ok')
        return { ok: true, primaryFingerprint: value, signedAt: '2024-01-01T00:00:00Z' };
      return {
        ok: false,
        reason: verdict as RejectionReason,
        detail: `fake ${verdict}`,
        issuer: value,
      };
    },
  };
}

const COMMIT = 'a'.repeat(40);
const HEAD = `tree ${'b'.repeat(40)}\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1 +0000\n`;
const raw = (gpgsig?: string): Uint8Array =>
  new TextEncoder().encode(`${HEAD}${gpgsig === undefined ? '' : `gpgsig ${gpgsig}\n`}\nmsg\n`);
const line = (s: string): string => Buffer.from(s).toString('base64');

async function run(opts: {
  gpgsig?: string;
  notes?: (string | undefined)[];
  required: number;
  keys?: TrustedKey[];
  commitId?: string;
}) {
  const verifier = fakeVerifier();
  const keys = await verifier.prepare(
    opts.keys ?? [
      { name: 'alice', publicKey: 'AAAA' },
      { name: 'bob', publicKey: 'BBBB' },
    ],
  );
  const input: SignaturePolicyInput = {
    commitId: opts.commitId ?? COMMIT,
    rawCommit: raw(opts.gpgsig),
    notes: opts.notes ?? [],
    required: opts.required,
    keys,
    verifier,
  };
  return { result: await evaluateSignatures(input), verifier, input };
}

describe('signature policy: counting', () => {
  it.each([
    {
      name: 'no signature with N=0 passes',
      gpgsig: undefined,
      notes: [],
      required: 0,
      ok: true,
      valid: 0,
    },
    {
      name: 'no signature with N=1 fails',
      gpgsig: undefined,
      notes: [],
      required: 1,
      ok: false,
      valid: 0,
    },
    {
      name: 'a trusted gpgsig satisfies N=1',
      gpgsig: 'ok:AAAA',
      notes: [],
      required: 1,
      ok: true,
      valid: 1,
    },
    {
      name: 'a trusted gpgsig with N=0 passes',
      gpgsig: 'ok:AAAA',
      notes: [],
      required: 0,
      ok: true,
      valid: 1,
    },
    {
      name: 'gpgsig and a note by two keys satisfy N=2',
      gpgsig: 'ok:AAAA',
      notes: [`${line('ok:BBBB')}\n`],
      required: 2,
      ok: true,
      valid: 2,
    },
    {
      name: 'gpgsig and a note by the same key count once',
      gpgsig: 'ok:AAAA',
      notes: [`${line('ok:AAAA')}\n`],
      required: 2,
      ok: false,
      valid: 1,
    },
    {
      name: 'the same note line from ref and tag counts once',
      gpgsig: undefined,
      notes: [line('ok:BBBB'), `${line('ok:BBBB')}\n`],
      required: 2,
      ok: false,
      valid: 1,
    },
    {
      name: 'garbage with N=0 still passes',
      gpgsig: 'malformed:',
      notes: ['%%%not-base64%%%'],
      required: 0,
      ok: true,
      valid: 0,
    },
    {
      name: 'an untrusted signer does not count',
      gpgsig: 'unknown-key:CCCC',
      notes: [],
      required: 1,
      ok: false,
      valid: 0,
    },
    {
      name: 'more valid signatures than required pass',
      gpgsig: 'ok:AAAA',
      notes: [`${line('ok:BBBB')}\n\n${line('bad-signature:AAAA')}`],
      required: 1,
      ok: true,
      valid: 2,
    },
  ])('$name', async ({ gpgsig, notes, required, ok, valid }) => {
    const { result } = await run({ ...(gpgsig === undefined ? {} : { gpgsig }), notes, required });
    expect(result.ok).toBe(ok);
    expect(result.validCount).toBe(valid);
    expect(result.required).toBe(required);
    if (ok) expect(result.error).toBeUndefined();
    else expect(isAppError(result.error, 'SIGNATURES_INSUFFICIENT')).toBe(true);
  });
});

describe('signature policy: what is verified and reported', () => {
  it('verifies the gpgsig over the commit without its header and notes over the lower-case id', async () => {
    const { verifier } = await run({
      gpgsig: 'ok:AAAA',
      notes: [line('ok:BBBB')],
      required: 2,
      commitId: COMMIT.toUpperCase(),
    });
    expect(verifier.payloads).toEqual([`${HEAD}\nmsg\n`, COMMIT]);
  });

  it('names the signers with every name their key is stored under and their source', async () => {
    const { result } = await run({
      notes: [line('ok:AAAA')],
      required: 1,
      keys: [
        { name: 'alice', publicKey: 'AAAA' },
        { name: 'alice-again', publicKey: 'AAAA' },
      ],
    });
    expect(result.signers).toEqual([
      { kind: 'pgp', fingerprint: 'AAAA', keyNames: ['alice', 'alice-again'], source: 'note' },
    ]);
  });

  it('lists rejections in order: gpgsig first, then note lines by position, malformed lines included', async () => {
    const { result } = await run({
      gpgsig: 'unknown-key:CCCC',
      notes: [`${line('bad-signature:AAAA')}\n\nnot base64!\n${line('expired-key:BBBB')}`],
      required: 1,
    });
    expect(result.rejected).toEqual([
      {
        source: 'gpgsig',
        kind: 'pgp',
        reason: 'unknown-key',
        detail: 'fake unknown-key',
        issuer: 'CCCC',
      },
      {
        source: 'note',
        kind: 'pgp',
        index: 1,
        reason: 'bad-signature',
        detail: 'fake bad-signature',
        issuer: 'AAAA',
      },
      { source: 'note', index: 2, reason: 'malformed', detail: 'note line 2 is not base64' },
      {
        source: 'note',
        kind: 'pgp',
        index: 3,
        reason: 'expired-key',
        detail: 'fake expired-key',
        issuer: 'BBBB',
      },
    ]);
  });

  it('explains an insufficient result on one line: found of required, by whom, what was rejected', async () => {
    const { result } = await run({
      gpgsig: 'ok:AAAA',
      notes: [line('revoked-key:BBBB')],
      required: 2,
    });
    const reason = result.error?.reason ?? '';
    expect(reason).not.toContain('\n');
    expect(reason).toContain(
      `commit ${COMMIT} has 1 valid signature(s) from trusted keys, 2 required`,
    );
    expect(reason).toContain('signed by pgp AAAA (alice)');
    expect(reason).toContain('rejected: note line 1 (pgp BBBB): revoked-key (fake revoked-key)');
    expect(result.error?.details).toMatchObject({ required: 2, validCount: 1, signers: ['AAAA'] });
  });

  it('says so when no trusted keys are configured', async () => {
    const { result } = await run({ gpgsig: 'unknown-key:CCCC', required: 1, keys: [] });
    expect(result.error?.reason).toContain('no trusted keys are configured');
  });

  it('requireSignatures throws the SIGNATURES_INSUFFICIENT error and returns the result when ok', async () => {
    const { input } = await run({ required: 1 });
    await expect(requireSignatures(input)).rejects.toMatchObject({
      code: 'SIGNATURES_INSUFFICIENT',
    });
    const passing = { ...input, rawCommit: raw('ok:BBBB') };
    await expect(requireSignatures(passing)).resolves.toMatchObject({ ok: true, validCount: 1 });
  });
});

describe('pipelineSignaturePolicy (the shape the pipeline step calls)', () => {
  it('prepares the stored keys, returns signer fingerprints, and throws the full explanation', async () => {
    const verifier = fakeVerifier();
    const base = {
      commitId: COMMIT,
      notes: [line('ok:BBBB')],
      keys: [
        { name: 'alice', publicKey: 'AAAA' },
        { name: 'bob', publicKey: 'BBBB' },
      ],
      verifier,
    };
    const passed = await pipelineSignaturePolicy({
      ...base,
      rawCommit: raw('ok:AAAA'),
      required: 2,
    });
    expect(passed).toMatchObject({ ok: true, validCount: 2, signers: ['AAAA', 'BBBB'] });
    await expect(
      pipelineSignaturePolicy({ ...base, rawCommit: raw('unknown-key:CCCC'), required: 2 }),
    ).rejects.toMatchObject({
      code: 'SIGNATURES_INSUFFICIENT',
      reason: expect.stringContaining('gpgsig (pgp CCCC): unknown-key (fake unknown-key)'),
    });
  });
});
