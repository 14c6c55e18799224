/**
 * The policy with both kinds: SSH signatures (made with node:crypto, verified for real by the
 * SSHSIG verifier) beside PGP ones (a fake verifier at our own interface). The quorum counts
 * distinct trusted keys across kinds, and every reason names each signer's kind and fingerprint.
 */
import { describe, expect, it } from 'vitest';
import type { PreparedKeys, SignatureVerifier, VerifyOutcome } from '../../src/pgp/types.js';
import { dearmorSshSignature } from '../../src/sshsig/armor.js';
import { prepareSshKeys } from '../../src/sshsig/verify.js';
import {
  evaluateSignatures,
  pipelineSignaturePolicy,
} from '../../src/pipeline/signature-policy.js';
import { noteSignatureLines } from '../../src/pipeline/signature-sources.js';
import { forgeKey, forgeSshSignature, type ForgedKey } from '../helpers/sshsig-forge.js';

/** PGP fake: a signature `ok:<FPR>` is valid; it records what it was asked to verify. */
function fakePgp(): SignatureVerifier & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    async prepare(keys): Promise<PreparedKeys> {
      const names = new Map(keys.map((k) => [k.publicKey, [k.name]]));
      return { count: names.size, namesByFingerprint: names, unusable: [] };
    },
    async verifyDetached(signature): Promise<VerifyOutcome> {
      const text = (
        typeof signature === 'string' ? signature : Buffer.from(signature).toString()
      ).trim();
      seen.push(text);
      const [verdict = '', fpr = ''] = text.split(':');
      return verdict === 'ok'
        ? { ok: true, primaryFingerprint: fpr, signedAt: '2024-01-01T00:00:00Z' }
        : { ok: false, reason: 'unknown-key', detail: 'fake', issuer: fpr };
    },
  };
}

const COMMIT = 'c0ffee'.padEnd(40, '0');
const HEAD = `tree ${'b'.repeat(40)}\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1 +0000\n`;
const MESSAGE = '\ndeploy\n';
const bob = forgeKey('ed25519', 'bob@laptop');
const erin = forgeKey('ecdsa-256', 'erin@yubikey');
const mallory = forgeKey('ed25519');

/** A raw commit whose gpgsig header holds `armor` (continuation lines indented, as git does). */
function rawWith(armor: string | undefined): Uint8Array {
  const header = armor === undefined ? '' : `gpgsig ${armor.trimEnd().replace(/\n/g, '\n ')}\n`;
  return new TextEncoder().encode(`${HEAD}${header}${MESSAGE}`);
}
const commitPayload = new TextEncoder().encode(`${HEAD}${MESSAGE}`);
/** Our SSH note line: the SSHSIG blob over the commit id, base64 on one line. */
const sshLine = (key: ForgedKey, opts: Parameters<typeof forgeSshSignature>[2] = {}): string =>
  (dearmorSshSignature(forgeSshSignature(key, COMMIT, opts)) ?? Buffer.alloc(0)).toString('base64');
const pgpLine = (s: string): string => Buffer.from(s).toString('base64');

async function run(opts: {
  gpgsig?: string;
  notes: string[];
  required: number;
  ssh?: ForgedKey[];
}) {
  const verifier = fakePgp();
  const keys = await verifier.prepare([{ name: 'alice', publicKey: 'AAAA' }]);
  const sshKeys = prepareSshKeys(
    (opts.ssh ?? [bob, erin]).map((k, i) => ({
      name: ['bob', 'erin'][i] ?? 'k',
      publicKey: k.publicLine,
    })),
  );
  const result = await evaluateSignatures({
    commitId: COMMIT,
    rawCommit: rawWith(opts.gpgsig),
    notes: opts.notes,
    required: opts.required,
    keys,
    verifier,
    sshKeys,
  });
  return { result, verifier };
}

describe('note lines: SSH told apart from PGP by the SSHSIG magic', () => {
  it('marks an SSHSIG blob line ssh and a binary PGP line pgp', () => {
    const pgp = Buffer.from([0x88, 0x75, 0x04, 0x00]).toString('base64');
    const { signatures } = noteSignatureLines([`${sshLine(bob)}\n${pgp}\n`]);
    expect(signatures.map((s) => s.kind)).toEqual(['ssh', 'pgp']);
    expect(sshLine(bob).startsWith('U1NIU0lH')).toBe(true);
  });
});

describe('quorum over PGP and SSH signatures', () => {
  it('N=2 is met by an SSH gpgsig and a PGP note', async () => {
    const gpgsig = forgeSshSignature(bob, commitPayload);
    const { result, verifier } = await run({ gpgsig, notes: [pgpLine('ok:AAAA')], required: 2 });
    expect(result.ok).toBe(true);
    expect(result.signers.map((s) => `${s.source}:${s.kind}:${s.keyNames.join()}`)).toEqual([
      'gpgsig:ssh:bob',
      'note:pgp:alice',
    ]);
    expect(verifier.seen).toEqual(['ok:AAAA']); // the SSH signature never reached the PGP verifier
  });

  it('N=2 is met by a PGP gpgsig and an SSH note', async () => {
    const { result } = await run({ gpgsig: 'ok:AAAA', notes: [sshLine(erin)], required: 2 });
    expect(result.ok).toBe(true);
    expect(result.signers.map((s) => s.fingerprint)).toEqual(['AAAA', erin.fingerprint]);
  });

  it('N=2 is not met by the same SSH key twice (two different signatures, gpgsig and note)', async () => {
    const gpgsig = forgeSshSignature(erin, commitPayload);
    const notes = [`${sshLine(erin)}\n\n${sshLine(erin, { hashAlgorithm: 'sha256' })}\n`];
    expect(new Set(notes[0]?.split('\n').filter(Boolean)).size).toBe(2);
    const { result } = await run({ gpgsig, notes, required: 2 });
    expect(result.ok).toBe(false);
    expect(result.validCount).toBe(1);
    expect(result.error?.reason).toContain(`signed by ssh ${erin.fingerprint} (erin)`);
  });

  it('names kind and fingerprint of every rejected SSH signature', async () => {
    const notes = [
      [sshLine(mallory), sshLine(bob, { namespace: 'file' }), 'not base64!'].join('\n'),
    ];
    const { result } = await run({ gpgsig: 'ok:AAAA', notes, required: 2 });
    expect(result.rejected.map((r) => `${r.index}:${r.kind}:${r.reason}`)).toEqual([
      '1:ssh:unknown-key',
      '2:ssh:wrong-namespace',
      '3:undefined:malformed',
    ]);
    const reason = result.error?.reason ?? '';
    expect(reason).toContain(`note line 1 (ssh ${mallory.fingerprint}): unknown-key`);
    expect(reason).toContain(`note line 2 (ssh ${bob.fingerprint}): wrong-namespace`);
    expect(reason).toContain('signed by pgp AAAA (alice)');
    expect(result.error?.details).toMatchObject({ signerKinds: ['pgp'] });
  });

  it('an SSH note over another commit id does not count', async () => {
    const other = forgeSshSignature(bob, 'f'.repeat(40));
    const line = (dearmorSshSignature(other) ?? Buffer.alloc(0)).toString('base64');
    const { result } = await run({ notes: [line], required: 1 });
    expect(result.rejected).toMatchObject([{ kind: 'ssh', reason: 'bad-signature' }]);
  });

  it('with no SSH keys trusted an SSH signature is an unknown key, not an error', async () => {
    const { result } = await run({ notes: [sshLine(bob)], required: 1, ssh: [] });
    expect(result.rejected).toMatchObject([
      { kind: 'ssh', reason: 'unknown-key', issuer: bob.fingerprint },
    ]);
  });
});

describe('pipelineSignaturePolicy with stored SSH keys', () => {
  it('prepares both kinds, returns fingerprints, and reports an unusable SSH key by name', async () => {
    const base = {
      commitId: COMMIT,
      rawCommit: rawWith(forgeSshSignature(bob, commitPayload)),
      keys: [{ name: 'alice', publicKey: 'AAAA' }],
      verifier: fakePgp(),
      sshKeys: [
        { name: 'bob', publicKey: bob.publicLine },
        { name: 'broken', publicKey: 'ssh-ed25519 AAAA' },
      ],
    };
    const passed = await pipelineSignaturePolicy({
      ...base,
      notes: [pgpLine('ok:AAAA')],
      required: 2,
    });
    expect(passed.signers).toEqual([bob.fingerprint, 'AAAA']);
    await expect(
      pipelineSignaturePolicy({ ...base, notes: [], required: 2 }),
    ).rejects.toMatchObject({
      code: 'SIGNATURES_INSUFFICIENT',
      reason: expect.stringContaining('trusted SSH key broken is unusable'),
    });
  });
});
