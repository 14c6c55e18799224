/**
 * Signatures end to end with real parts: keys and signatures made by GnuPG, commits signed by
 * `git commit -S`, notes written the way werf's git-signatures does and pushed to a bare origin,
 * read back with the git CLI, and judged by our openpgp.js adapter and the signature policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { createOpenPgpKeyInspector, createOpenPgpVerifier } from '../../src/pgp/openpgp.js';
import type { PreparedKeys } from '../../src/pgp/types.js';
import { evaluateSignatures } from '../../src/pipeline/signature-policy.js';
import {
  createGpgHome,
  detachSign,
  exportPublicKey,
  exportSecretKey,
  generateKey,
  gpg,
  revokeKey,
  setExpiry,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import {
  addSignatureNote,
  commitFile,
  createRepoPair,
  fanOutNotes,
  fanOutPath,
  git,
  listNotePaths,
  push,
  readNoteFromRef,
  readNoteFromTag,
  readRawCommit,
  verifyCommitWithGit,
  writeRawCommit,
  type RepoPair,
} from '../helpers/git-repo.js';

const at = (iso: string): Date => new Date(iso);

let home: GpgHome;
const k = {} as Record<
  'alice' | 'bob' | 'mallory' | 'carol' | 'dave' | 'old' | 'rex' | 'late' | 'early',
  GpgKey
>;

beforeAll(async () => {
  home = await createGpgHome();
  const make = (name: string, extra: Partial<Parameters<typeof generateKey>[1]> = {}) =>
    generateKey(home, { name, email: `${name.toLowerCase()}@example.test`, ...extra });
  k.alice = await make('Alice');
  k.bob = await make('Bob');
  k.mallory = await make('Mallory');
  k.carol = await make('Carol', { signingSubkey: true });
  k.dave = await make('Dave', { algo: 'rsa2048' });
  k.old = await make('Old', { createdAt: at('2020-01-01T00:00:00Z'), expire: '1d' });
  k.rex = await make('Rex');
  k.late = await make('Late', { createdAt: at('2020-01-01T00:00:00Z') });
  k.early = await make('Early', { createdAt: at('2020-01-01T00:00:00Z') });
});

afterAll(async () => {
  await home?.cleanup();
});

const verifier = createOpenPgpVerifier();

/** Prepare trusted keys as stored: [name, key] pairs, exported from gpg right now. */
async function trust(...entries: [string, GpgKey][]): Promise<PreparedKeys> {
  const keys = await Promise.all(
    entries.map(async ([name, key]) => ({ name, publicKey: await exportPublicKey(home, key) })),
  );
  return verifier.prepare(keys);
}

const everyone = (): [string, GpgKey][] =>
  (['alice', 'bob', 'carol', 'dave', 'old', 'rex', 'late', 'early'] as const).map((n) => [n, k[n]]);

interface Built {
  commit: string;
  /** Read notes only through the latest-signature tag (as a plain clone would). */
  tagOnly?: boolean;
  trusted?: [string, GpgKey][];
}

interface Case {
  name: string;
  required: number;
  build: (repo: RepoPair) => Promise<Built>;
  ok: boolean;
  signers: (keyof typeof k)[];
  rejected: string[];
}

const sign = (key: GpgKey) => ({ sign: { home, key } });
const signer = (key: GpgKey) => ({ home, key });

const cases: Case[] = [
  {
    name: 'an unsigned commit fails N=1 with nothing to reject',
    required: 1,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1') }),
    ok: false,
    signers: [],
    rejected: [],
  },
  {
    name: 'a gpgsig by an untrusted key does not count',
    required: 1,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1', sign(k.mallory)) }),
    ok: false,
    signers: [],
    rejected: ['gpgsig:unknown-key'],
  },
  {
    name: 'a trusted gpgsig satisfies N=1',
    required: 1,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1', sign(k.alice)) }),
    ok: true,
    signers: ['alice'],
    rejected: [],
  },
  {
    name: 'a trusted RSA-2048 gpgsig satisfies N=1',
    required: 1,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1', sign(k.dave)) }),
    ok: true,
    signers: ['dave'],
    rejected: [],
  },
  {
    name: 'a gpgsig plus one note by another key satisfy N=2',
    required: 2,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1', sign(k.alice));
      await addSignatureNote(r, commit, signer(k.bob));
      return { commit };
    },
    ok: true,
    signers: ['alice', 'bob'],
    rejected: [],
  },
  {
    name: 'the same key stored under two names counts once (N=2 fails)',
    required: 2,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1', sign(k.alice));
      await addSignatureNote(r, commit, signer(k.alice));
      return {
        commit,
        trusted: [
          ['alice', k.alice],
          ['alice-laptop', k.alice],
        ],
      };
    },
    ok: false,
    signers: ['alice'],
    rejected: [],
  },
  {
    name: 'a note that signs another commit id does not count',
    required: 1,
    build: async (r) => {
      const first = await commitFile(r, 'a', '1');
      const commit = await commitFile(r, 'a', '2');
      await addSignatureNote(r, commit, signer(k.bob), { signedText: first });
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['note:bad-signature'],
  },
  {
    name: 'a note by a key that has expired since does not count',
    required: 1,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.old), { at: at('2020-01-01T12:00:00Z') });
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['note:expired-key'],
  },
  {
    name: 'a note by a key revoked after signing does not count',
    required: 1,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.rex));
      await revokeKey(home, k.rex);
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['note:revoked-key'],
  },
  {
    name: 'a note made after the key expired does not count',
    required: 1,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.late), { at: at('2020-06-01T00:00:00Z') });
      await setExpiry(home, k.late, '2020-03-01', { at: at('2020-02-01T00:00:00Z') });
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['note:outside-key-validity'],
  },
  {
    name: 'a note dated before the key was created does not count',
    required: 1,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.early), { at: at('2019-06-01T00:00:00Z') });
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['note:outside-key-validity'],
  },
  {
    name: 'a tampered commit carrying a copied gpgsig fails',
    required: 1,
    build: async (r) => {
      const signed = await commitFile(r, 'a', '1', { ...sign(k.alice), message: 'deploy v1' });
      await push(r);
      const raw = Buffer.from(await readRawCommit(r.origin, signed));
      const at1 = raw.lastIndexOf('v1');
      raw[at1 + 1] = '2'.charCodeAt(0);
      const commit = await writeRawCommit(r.origin, raw);
      expect(await verifyCommitWithGit(r.origin, signed, home)).toBe(true);
      expect(await verifyCommitWithGit(r.origin, commit, home)).toBe(false);
      return { commit };
    },
    ok: false,
    signers: [],
    rejected: ['gpgsig:bad-signature'],
  },
  {
    name: 'a signature by a signing subkey counts for its primary key',
    required: 1,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1', sign(k.carol)) }),
    ok: true,
    signers: ['carol'],
    rejected: [],
  },
  {
    name: 'notes in a fanned-out notes tree (ab/cd/ef…) are read',
    required: 2,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.alice));
      await addSignatureNote(r, commit, signer(k.bob));
      const notes = await fanOutNotes(r, { levels: 2, fillers: 300 });
      expect(await listNotePaths(r.work, notes)).toContain(fanOutPath(commit, 2));
      return { commit };
    },
    ok: true,
    signers: ['alice', 'bob'],
    rejected: [],
  },
  {
    name: 'notes reached only through an annotated latest-signature tag are read',
    required: 1,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1');
      await addSignatureNote(r, commit, signer(k.bob), { annotatedTag: true });
      const type = (await git(r.work, ['cat-file', '-t', 'refs/tags/latest-signature'])).toString();
      expect(type.trim()).toBe('tag');
      return { commit, tagOnly: true };
    },
    ok: true,
    signers: ['bob'],
    rejected: [],
  },
  {
    name: 'N=0 with a trusted gpgsig passes',
    required: 0,
    build: async (r) => ({ commit: await commitFile(r, 'a', '1', sign(k.alice)) }),
    ok: true,
    signers: ['alice'],
    rejected: [],
  },
  {
    name: 'N=0 passes even with an untrusted gpgsig and a garbage note line',
    required: 0,
    build: async (r) => {
      const commit = await commitFile(r, 'a', '1', sign(k.mallory));
      await git(r.work, ['notes', '--ref', 'signatures', 'add', '-m', 'garbage!', commit]);
      return { commit };
    },
    ok: true,
    signers: [],
    rejected: ['gpgsig:unknown-key', 'note:malformed'],
  },
];

describe('signature policy over real gpg, git and openpgp.js', () => {
  it.each(cases)('$name', async (c) => {
    const repo = await createRepoPair();
    try {
      const built = await c.build(repo);
      await push(repo);
      const rawCommit = await readRawCommit(repo.origin, built.commit);
      const fromTag = await readNoteFromTag(repo.origin, built.commit);
      const fromRef = built.tagOnly ? undefined : await readNoteFromRef(repo.origin, built.commit);
      const keys = await trust(...(built.trusted ?? everyone()));
      const result = await evaluateSignatures({
        commitId: built.commit,
        rawCommit,
        notes: [fromRef, fromTag],
        required: c.required,
        keys,
        verifier,
      });
      expect(result.rejected.map((r) => `${r.source}:${r.reason}`)).toEqual(c.rejected);
      expect(result.signers.map((s) => s.fingerprint)).toEqual(
        c.signers.map((n) => k[n].fingerprint),
      );
      expect(result.ok).toBe(c.ok);
      if (!c.ok) {
        expect(isAppError(result.error, 'SIGNATURES_INSUFFICIENT')).toBe(true);
        expect(result.error?.reason).toContain(`${result.validCount} valid signature(s)`);
      }
    } finally {
      await repo.cleanup();
    }
  });

  it('names every stored name of a key that signed', async () => {
    const repo = await createRepoPair();
    try {
      const commit = await commitFile(repo, 'a', '1', sign(k.alice));
      const keys = await trust(['alice', k.alice], ['alice-laptop', k.alice], ['bob', k.bob]);
      expect(keys.count).toBe(2);
      const result = await evaluateSignatures({
        commitId: commit,
        rawCommit: await readRawCommit(repo.work, commit),
        notes: [],
        required: 1,
        keys,
        verifier,
      });
      expect(result.signers).toEqual([
        {
          kind: 'pgp',
          fingerprint: k.alice.fingerprint,
          keyNames: ['alice', 'alice-laptop'],
          source: 'gpgsig',
        },
      ]);
    } finally {
      await repo.cleanup();
    }
  });
});

describe('openpgp.js verifier on gpg-made detached signatures', () => {
  const payload = Buffer.from('0123456789abcdef0123456789abcdef01234567');

  it.each([
    ['binary', false],
    ['armored', true],
  ])('accepts a good %s signature and returns the primary fingerprint', async (_kind, armor) => {
    const keys = await trust(['alice', k.alice]);
    const sig = await detachSign(home, k.alice, payload, { armor });
    const input = armor ? sig.toString('utf8') : new Uint8Array(sig);
    const outcome = await verifier.verifyDetached(input, payload, keys);
    expect(outcome).toMatchObject({ ok: true, primaryFingerprint: k.alice.fingerprint });
  });

  it('rejects a one-byte change to the payload as bad-signature', async () => {
    const keys = await trust(['alice', k.alice]);
    const sig = await detachSign(home, k.alice, payload);
    const changed = Buffer.from(payload);
    changed[10] = changed[10] === 0x30 ? 0x31 : 0x30;
    const outcome = await verifier.verifyDetached(new Uint8Array(sig), changed, keys);
    expect(outcome).toMatchObject({
      ok: false,
      reason: 'bad-signature',
      issuer: k.alice.fingerprint,
    });
  });

  it('rejects a signature by another key as unknown-key, naming the issuer', async () => {
    const keys = await trust(['alice', k.alice]);
    const sig = await detachSign(home, k.bob, payload);
    const outcome = await verifier.verifyDetached(new Uint8Array(sig), payload, keys);
    expect(outcome).toMatchObject({ ok: false, reason: 'unknown-key', issuer: k.bob.fingerprint });
  });

  it('rejects bytes that are no signature as malformed', async () => {
    const keys = await trust(['alice', k.alice]);
    const outcome = await verifier.verifyDetached(new Uint8Array([1, 2, 3, 4]), payload, keys);
    expect(outcome).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('sets aside an unusable stored key and still verifies with the others', async () => {
    const keys = await verifier.prepare([
      { name: 'broken', publicKey: 'not a key' },
      { name: 'alice', publicKey: await exportPublicKey(home, k.alice) },
    ]);
    expect(keys.count).toBe(1);
    expect(keys.unusable.map((u) => u.name)).toEqual(['broken']);
    const sig = await detachSign(home, k.alice, payload);
    const outcome = await verifier.verifyDetached(new Uint8Array(sig), payload, keys);
    expect(outcome.ok).toBe(true);
  });

  it('refuses keys prepared by another verifier instance', async () => {
    const keys = await createOpenPgpVerifier().prepare([]);
    await expect(verifier.verifyDetached('x', payload, keys)).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });
});

describe('openpgp.js key inspector on gpg-made keys', () => {
  const inspector = createOpenPgpKeyInspector();

  it('shows fingerprint, subkeys, user ids, algorithm, creation and no expiry of a good key', async () => {
    const info = await inspector.inspect(await exportPublicKey(home, k.carol));
    expect(info).toMatchObject({
      primaryFingerprint: k.carol.fingerprint,
      subkeyFingerprints: [k.carol.signingSubkeyFingerprint],
      userIds: ['Carol <carol@example.test>'],
      expires: null,
      revoked: false,
    });
    expect(info.algorithm).toMatch(/ed25519/i);
    expect(Number.isNaN(Date.parse(info.created))).toBe(false);
  });

  it('shows the expiry of a key that expires', async () => {
    const info = await inspector.inspect(await exportPublicKey(home, k.old));
    expect(info.created).toBe('2020-01-01T00:00:00.000Z');
    expect(info.expires).toBe('2020-01-02T00:00:00.000Z');
  });

  it.each([
    [
      'a private key',
      async () => exportSecretKey(home, k.bob),
      'is a private key; give the public key',
    ],
    ['garbage', async () => 'hello, I am not a key', 'is not ASCII-armored OpenPGP data'],
    [
      'broken armor',
      async () =>
        '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n',
      'could not be read as an OpenPGP key',
    ],
    [
      'two keys in one armor',
      async () =>
        (
          await gpg(home, ['--armor', '--export', k.alice.fingerprint, k.bob.fingerprint])
        ).toString(),
      'holds 2 keys',
    ],
  ])('refuses %s with PGP_INVALID naming the problem', async (_what, armored, message) => {
    const text = await armored();
    const error = await inspector.inspect(text).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(error, 'PGP_INVALID')).toBe(true);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });
});
