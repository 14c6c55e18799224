/**
 * Real GnuPG for tests: a throw-away GNUPGHOME per test file, keys made by `gpg --quick-gen-key`
 * (ed25519 by default: instant), real expiry and revocation, armored export and detached
 * signatures. TEST-ONLY: keys have no passphrase and live only in the temp dir.
 *
 * Usage:
 *   const home = await createGpgHome();            // afterAll(() => home.cleanup())
 *   const alice = await generateKey(home, { name: 'Alice', email: 'alice@example.test' });
 *   const armored = await exportPublicKey(home, alice);
 *   const sig = await detachSign(home, alice, Buffer.from('payload'));
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hermeticEnv } from './bench.js';
import { runTool } from './run-tool.js';

/** A throw-away GnuPG home; `env` runs gpg (or git signing through gpg) against it. */
export interface GpgHome {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Stops this home's gpg-agent and removes the directory. */
  cleanup(): Promise<void>;
}

/** A generated key, identified by fingerprints (upper-case hex, as gpg prints them). */
export interface GpgKey {
  readonly fingerprint: string;
  /** The signing subkey when generated with `signingSubkey`, else undefined. */
  readonly signingSubkeyFingerprint: string | undefined;
  readonly name: string;
  readonly email: string;
  /** `Name <email>` */
  readonly uid: string;
}

/** How to make a key. */
export interface KeyOptions {
  readonly name: string;
  readonly email: string;
  /** Default ed25519 (fast); rsa2048 for an RSA key. */
  readonly algo?: 'ed25519' | 'rsa2048';
  /** gpg expiry: '0' (never, default), '1d', '2y', or an ISO date. */
  readonly expire?: string;
  /** Pretend the key was made at this time (`--faked-system-time`), e.g. to make it expired now. */
  readonly createdAt?: Date;
  /** Primary key certify-only plus a separate signing subkey (signatures come from the subkey). */
  readonly signingSubkey?: boolean;
}

/** `--faked-system-time` argument for `at` (epoch seconds, frozen). */
function fakedTime(at: Date | undefined): string[] {
  return at ? ['--faked-system-time', `${Math.floor(at.getTime() / 1000)}!`] : [];
}

const BATCH = ['--batch', '--yes', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', ''];

/** Run gpg in `home` with batch options; returns stdout bytes. */
export async function gpg(
  home: GpgHome,
  args: readonly string[],
  input?: Uint8Array | string,
): Promise<Buffer> {
  const opts = input === undefined ? { env: home.env } : { env: home.env, input };
  return (await runTool('gpg', [...BATCH, ...args], opts)).stdout;
}

/** Create an empty GNUPGHOME (mode 0700) in the temp dir. */
export async function createGpgHome(): Promise<GpgHome> {
  const dir = await mkdtemp(join(tmpdir(), 'fg-gpg-'));
  const env = hermeticEnv({ GNUPGHOME: dir });
  return {
    dir,
    env,
    async cleanup() {
      await runTool('gpgconf', ['--kill', 'all'], { env }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Fingerprints of a key as `gpg --with-colons` lists them: [primary, ...subkeys]. */
export async function listFingerprints(home: GpgHome, ref: string): Promise<string[]> {
  const out = (await gpg(home, ['--with-colons', '--fingerprint', '--list-keys', ref])).toString();
  return out
    .split('\n')
    .filter((l) => l.startsWith('fpr:'))
    .map((l) => l.split(':')[9] ?? '');
}

/** Generate a key with real gpg. The uid is `name <email>`; emails should be unique per home. */
export async function generateKey(home: GpgHome, opts: KeyOptions): Promise<GpgKey> {
  const uid = `${opts.name} <${opts.email}>`;
  const algo = opts.algo ?? 'ed25519';
  const expire = opts.expire ?? '0';
  const time = fakedTime(opts.createdAt);
  const usage = opts.signingSubkey ? 'cert' : 'sign';
  await gpg(home, [...time, '--quick-gen-key', uid, algo, usage, expire]);
  const [primary] = await listFingerprints(home, `=${uid}`);
  if (!primary) throw new Error(`gpg made no key for ${uid}`);
  let subkey: string | undefined;
  if (opts.signingSubkey) {
    await gpg(home, [...time, '--quick-add-key', primary, algo, 'sign', expire]);
    subkey = (await listFingerprints(home, primary))[1];
  }
  return {
    fingerprint: primary,
    signingSubkeyFingerprint: subkey,
    name: opts.name,
    email: opts.email,
    uid,
  };
}

/**
 * Set a new expiry (`gpg --quick-set-expire`, e.g. '2020-03-01' or '0'), as if done at `at`.
 * A new self-signature replaces the old one, so signatures made earlier may now fall after it.
 */
export async function setExpiry(
  home: GpgHome,
  key: GpgKey,
  expire: string,
  opts: { at?: Date } = {},
): Promise<void> {
  await gpg(home, [...fakedTime(opts.at), '--quick-set-expire', key.fingerprint, expire]);
}

/** The armored public key (primary, subkeys, uids, and any revocation imported). */
export async function exportPublicKey(home: GpgHome, key: GpgKey): Promise<string> {
  return (await gpg(home, ['--armor', '--export', key.fingerprint])).toString('utf8');
}

/** The armored PRIVATE key — only to test that such input is refused. */
export async function exportSecretKey(home: GpgHome, key: GpgKey): Promise<string> {
  return (await gpg(home, ['--armor', '--export-secret-keys', key.fingerprint])).toString('utf8');
}

/**
 * Revoke the key for real: import the revocation certificate gpg wrote at generation time
 * (`openpgp-revocs.d/<FPR>.rev`, "no reason given" = a hard revocation). Export the key again
 * afterwards to get the revoked public key.
 */
export async function revokeKey(home: GpgHome, key: GpgKey): Promise<void> {
  const file = join(home.dir, 'openpgp-revocs.d', `${key.fingerprint}.rev`);
  const text = await readFile(file, 'utf8');
  // gpg prefixes the armor line with ':' so that an accidental import does nothing.
  await gpg(home, ['--import'], text.replace(/^:-----BEGIN/m, '-----BEGIN'));
}

/** How to make a detached signature. */
export interface SignOptions {
  /** Armored text instead of binary bytes. */
  readonly armor?: boolean;
  /** Sign as if it were this time (`--faked-system-time`). */
  readonly at?: Date;
  /** Sign with this exact (sub)key fingerprint instead of letting gpg choose. */
  readonly exactKey?: string;
}

/** `gpg --detach-sign` of `data` by `key`; binary by default. */
export async function detachSign(
  home: GpgHome,
  key: GpgKey,
  data: Uint8Array | string,
  opts: SignOptions = {},
): Promise<Buffer> {
  const user = opts.exactKey ? `${opts.exactKey}!` : key.fingerprint;
  // With a faked time, let gpg sign even before the key's creation (to test that we refuse it).
  const time = opts.at ? [...fakedTime(opts.at), '--ignore-time-conflict'] : [];
  const args = [...time, '--local-user', user, '--detach-sign'];
  if (opts.armor) args.push('--armor');
  return gpg(home, args, data);
}
