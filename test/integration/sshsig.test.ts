/**
 * SSH signatures with real parts: keys from `ssh-keygen -t`, detached signatures from
 * `ssh-keygen -Y sign`, commits from `git -c gpg.format=ssh commit -S`, judged by our SSHSIG
 * verifier — and by `ssh-keygen -Y verify` / `git verify-commit` with an allowed-signers file,
 * which must agree with us on every row (one documented, deliberate exception).
 * Rows OpenSSH no longer produces (ssh-rsa SHA-1, rsa-sha2-256) or that need a hardware key
 * (sk-) are made with node:crypto over the proper signed data (test/helpers/sshsig-forge.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthorizedKey } from '../../src/sshsig/keys.js';
import { prepareSshKeys, verifySshSignature } from '../../src/sshsig/verify.js';
import { splitSignedCommit } from '../../src/pipeline/signature-sources.js';
import {
  createRepoPair,
  readRawCommit,
  writeRawCommit,
  type RepoPair,
} from '../helpers/git-repo.js';
import {
  commitFileSshSigned,
  createSshHome,
  generateSshKey,
  sshSign,
  sshVerify,
  verifyCommitWithGitSsh,
  type SshHome,
  type SshKeyPair,
  type SshKeySpec,
} from '../helpers/ssh-keygen.js';
import { forgeKey, forgeSshSignature, type ForgedKey } from '../helpers/sshsig-forge.js';

const SPECS: SshKeySpec[] = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa-3072'];
const data = Buffer.from('4f2a1c9e0b7d3a5f6e8c1b2d4a6f8e0c2b4d6f8a');

let home: SshHome;
const keys = new Map<string, SshKeyPair>();
let stranger: SshKeyPair;
const forged = {} as Record<'rsa' | 'skEd' | 'skEc', ForgedKey>;

beforeAll(async () => {
  home = await createSshHome();
  for (const spec of SPECS) keys.set(spec, await generateSshKey(home, spec, spec));
  stranger = await generateSshKey(home, 'stranger', 'ed25519');
  forged.rsa = forgeKey('rsa-2048');
  forged.skEd = forgeKey('sk-ed25519');
  forged.skEc = forgeKey('sk-ecdsa');
});

afterAll(async () => {
  await home?.cleanup();
});

const key = (spec: SshKeySpec): SshKeyPair => keys.get(spec) as SshKeyPair;
const trustedLines = (): string[] => [
  ...SPECS.map((s) => key(s).publicLine),
  forged.rsa.publicLine,
  forged.skEd.publicLine,
  forged.skEc.publicLine,
];

interface DetachedRow {
  name: string;
  /** The armored signature and the bytes it is checked over (default `data`). */
  make: () => Promise<{ signature: string; over?: Buffer }>;
  /** 'valid' or the rejection reason. */
  expected: string;
  /** What ssh-keygen -Y verify says, when it differs from us on purpose. */
  keygenDiffers?: string;
}

const other = Buffer.from(data.toString().replace('4f2a', '4f2b'));

const detachedRows: DetachedRow[] = [
  ...SPECS.map((s) => ({
    name: `ssh-keygen -Y sign -n git by ${s} is valid`,
    make: async () => ({ signature: await sshSign(home, key(s), data) }),
    expected: 'valid',
  })),
  {
    name: 'ssh-keygen -Y sign -n git -O hashalg=sha256 by ed25519 is valid',
    make: async () => ({
      signature: await sshSign(home, key('ed25519'), data, { hashAlgorithm: 'sha256' }),
    }),
    expected: 'valid',
  },
  ...SPECS.map((s) => ({
    name: `the same by ${s} in namespace file is rejected`,
    make: async () => ({ signature: await sshSign(home, key(s), data, { namespace: 'file' }) }),
    expected: 'wrong-namespace',
  })),
  {
    name: 'a signature by a key not trusted is rejected',
    make: async () => ({ signature: await sshSign(home, stranger, data) }),
    expected: 'unknown-key',
  },
  ...(['ed25519', 'ecdsa-384', 'rsa-3072'] as const).map((s) => ({
    name: `a ${s} signature checked over other bytes is rejected`,
    make: async () => ({ signature: await sshSign(home, key(s), data), over: other }),
    expected: 'bad-signature',
  })),
  {
    name: 'an rsa-sha2-256 signature (node:crypto) is valid',
    make: async () => ({
      signature: forgeSshSignature(forged.rsa, data, { rsaAlgorithm: 'rsa-sha2-256' }),
    }),
    expected: 'valid',
  },
  {
    name: 'an ssh-rsa (SHA-1) signature (node:crypto), otherwise valid, is rejected',
    make: async () => ({
      signature: forgeSshSignature(forged.rsa, data, { rsaAlgorithm: 'ssh-rsa' }),
    }),
    expected: 'weak-algorithm',
  },
  {
    name: 'a FIDO sk-ssh-ed25519 signature with user presence is valid',
    make: async () => ({ signature: forgeSshSignature(forged.skEd, data) }),
    expected: 'valid',
  },
  {
    name: 'a FIDO sk-ecdsa-sha2-nistp256 signature with user presence is valid',
    make: async () => ({ signature: forgeSshSignature(forged.skEc, data) }),
    expected: 'valid',
  },
  {
    name: 'a FIDO signature made without a touch is rejected',
    make: async () => ({ signature: forgeSshSignature(forged.skEd, data, { skFlags: 0 }) }),
    expected: 'bad-signature',
    // ssh-keygen -Y verify does not check the user-presence flag (sshd does, by default); we
    // follow sshd: an approval nobody touched the key for is no approval.
    keygenDiffers: 'accepts',
  },
  {
    name: 'a truncated armor is rejected',
    make: async () => {
      const lines = (await sshSign(home, key('ed25519'), data)).trim().split('\n');
      return { signature: [...lines.slice(0, 3), lines[lines.length - 1]].join('\n') };
    },
    expected: 'malformed',
  },
  {
    name: 'garbage armor is rejected',
    make: async () => ({
      signature:
        '-----BEGIN SSH SIGNATURE-----\nbm90IGEgc2lnbmF0dXJl\n-----END SSH SIGNATURE-----\n',
    }),
    expected: 'malformed',
  },
];

const verdict = (o: ReturnType<typeof verifySshSignature>): string => (o.ok ? 'valid' : o.reason);

describe('SSHSIG over real ssh-keygen signatures (ssh-keygen -Y verify agrees)', () => {
  it.each(detachedRows)('$name', async (row) => {
    const { signature, over = data } = await row.make();
    const trusted = trustedLines();
    const outcome = verifySshSignature(
      signature,
      over,
      prepareSshKeys(trusted.map((publicKey, i) => ({ name: `k${i}`, publicKey }))),
    );
    expect(verdict(outcome)).toBe(row.expected);
    const keygen = await sshVerify(home, trusted, signature, over);
    expect(keygen).toBe(row.keygenDiffers === 'accepts' ? true : row.expected === 'valid');
  });

  it.each(SPECS)('a %s key line fingerprints as ssh-keygen -l prints it', (spec) => {
    const parsed = parseAuthorizedKey(key(spec).publicLine);
    expect(parsed.key.fingerprint).toBe(key(spec).fingerprint);
    expect(parsed.comment).toBe(`${spec}@example.test`);
  });
});

describe('gpgsig holding an SSH signature (git verify-commit agrees)', () => {
  let repo: RepoPair;
  beforeAll(async () => {
    repo = await createRepoPair();
  });
  afterAll(async () => {
    await repo?.cleanup();
  });

  const judge = async (commit: string, trusted: string[]) => {
    const parts = splitSignedCommit(await readRawCommit(repo.work, commit));
    expect(parts.signature?.startsWith('-----BEGIN SSH SIGNATURE-----')).toBe(true);
    const prepared = prepareSshKeys(trusted.map((publicKey, i) => ({ name: `k${i}`, publicKey })));
    const ours = verdict(verifySshSignature(parts.signature ?? '', parts.payload, prepared));
    const gits = await verifyCommitWithGitSsh(home, repo.work, commit, trusted);
    return { ours, gits };
  };

  it.each(SPECS)('git -c gpg.format=ssh commit -S by %s is valid', async (spec) => {
    const commit = await commitFileSshSigned(repo, key(spec), 'a.txt', spec);
    expect(await judge(commit, trustedLines())).toEqual({ ours: 'valid', gits: true });
  });

  it('a commit signed by a key not trusted is rejected', async () => {
    const commit = await commitFileSshSigned(repo, stranger, 'a.txt', 'stranger');
    expect(await judge(commit, trustedLines())).toEqual({ ours: 'unknown-key', gits: false });
  });

  it('a tampered commit carrying a copied SSH gpgsig is rejected', async () => {
    const signed = await commitFileSshSigned(repo, key('ed25519'), 'a.txt', 'v1');
    const raw = Buffer.from(await readRawCommit(repo.work, signed));
    const at = raw.lastIndexOf('change a.txt');
    raw[at] = 'C'.charCodeAt(0);
    const tampered = await writeRawCommit(repo.work, raw);
    expect(await judge(signed, trustedLines())).toEqual({ ours: 'valid', gits: true });
    expect(await judge(tampered, trustedLines())).toEqual({ ours: 'bad-signature', gits: false });
  });
});
