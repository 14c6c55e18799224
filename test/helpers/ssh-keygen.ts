/**
 * Real OpenSSH for tests: keys made by `ssh-keygen -t`, SSHSIG signatures by `ssh-keygen -Y sign`,
 * verdicts by `ssh-keygen -Y verify` and `git verify-commit` with an allowed-signers file, commits
 * signed by `git -c gpg.format=ssh commit -S`, and SSH note lines in our format. TEST-ONLY: keys
 * have no passphrase and live only in the temp dir.
 *
 * Usage:
 *   const home = await createSshHome();                 // afterAll(() => home.cleanup())
 *   const bob = await generateSshKey(home, 'bob', 'ed25519');
 *   const armored = await sshSign(home, bob, Buffer.from('data'));
 *   expect(await sshVerify(home, [bob.publicLine], armored, Buffer.from('data'))).toBe(true);
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hermeticEnv } from './bench.js';
import { git, gitEnv, moveLatestSignatureTag, type RepoPair } from './git-repo.js';
import { runTool } from './run-tool.js';

/** A temp dir holding keys, signatures and allowed-signers files. */
export interface SshHome {
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** A key pair on disk: `privatePath`, and its `.pub` line. */
export interface SshKeyPair {
  readonly name: string;
  readonly privatePath: string;
  /** `type base64 comment`, as in the .pub file (no newline). */
  readonly publicLine: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/** Key kinds `ssh-keygen -t` makes here; ecdsa bits select the curve. */
export type SshKeySpec = 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'rsa-3072';

const env = (): NodeJS.ProcessEnv => hermeticEnv();

/** Create an empty temp dir for keys. */
export async function createSshHome(): Promise<SshHome> {
  const dir = await mkdtemp(join(tmpdir(), 'fg-ssh-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `ssh-keygen -t … -N ''`: a fresh key pair named `name` in `home`. */
export async function generateSshKey(
  home: SshHome,
  name: string,
  spec: SshKeySpec,
): Promise<SshKeyPair> {
  const [type = '', bits] = spec.split('-');
  const privatePath = join(home.dir, name);
  const args = ['-q', '-t', type, '-N', '', '-C', `${name}@example.test`, '-f', privatePath];
  if (bits) args.push('-b', bits);
  await runTool('ssh-keygen', args, { env: env() });
  const publicLine = (await readFile(`${privatePath}.pub`, 'utf8')).trim();
  const listed = (
    await runTool('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${privatePath}.pub`], { env: env() })
  ).stdout.toString();
  const fingerprint = listed.split(' ')[1] ?? '';
  return { name, privatePath, publicLine, fingerprint };
}

/** `ssh-keygen -Y sign -n <namespace>` of `data` (stdin → stdout): the armored signature. */
export async function sshSign(
  _home: SshHome,
  key: SshKeyPair,
  data: Uint8Array | string,
  opts: { namespace?: string; hashAlgorithm?: 'sha256' | 'sha512' } = {},
): Promise<string> {
  const args = ['-Y', 'sign', '-n', opts.namespace ?? 'git', '-f', key.privatePath];
  if (opts.hashAlgorithm) args.push('-O', `hashalg=${opts.hashAlgorithm}`);
  return (await runTool('ssh-keygen', args, { env: env(), input: data })).stdout.toString('utf8');
}

/** Write an allowed-signers file trusting `publicLines` for namespace git; returns its path. */
export async function writeAllowedSigners(
  home: SshHome,
  publicLines: readonly string[],
): Promise<string> {
  const path = join(home.dir, `allowed-${randomBytes(4).toString('hex')}`);
  const lines = publicLines.map((l) => `approver@example.test namespaces="git" ${l}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** What `ssh-keygen -Y verify -n git` says about `armored` over `data` (true = good). */
export async function sshVerify(
  home: SshHome,
  trusted: readonly string[],
  armored: string,
  data: Uint8Array | string,
): Promise<boolean> {
  const allowed = await writeAllowedSigners(home, trusted);
  const sigPath = join(home.dir, `sig-${randomBytes(4).toString('hex')}`);
  await writeFile(sigPath, armored);
  const args = [
    '-Y',
    'verify',
    '-f',
    allowed,
    '-I',
    'approver@example.test',
    '-n',
    'git',
    '-s',
    sigPath,
  ];
  return runTool('ssh-keygen', args, { env: env(), input: data }).then(
    () => true,
    () => false,
  );
}

/** `git -c gpg.format=ssh commit -S` with `key`; returns the commit id. */
export async function commitFileSshSigned(
  repo: RepoPair,
  key: SshKeyPair,
  path: string,
  content: string,
): Promise<string> {
  await writeFile(join(repo.work, path), content);
  await git(repo.work, ['add', '--', path]);
  const signing = ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key.privatePath}`];
  await git(repo.work, [...signing, 'commit', '-q', '-S', '-m', `change ${path}`]);
  return (await git(repo.work, ['rev-parse', 'HEAD'])).toString().trim();
}

/** What `git verify-commit` (gpg.format=ssh) says about `commit` given the trusted keys. */
export async function verifyCommitWithGitSsh(
  home: SshHome,
  dir: string,
  commit: string,
  trusted: readonly string[],
): Promise<boolean> {
  const allowed = await writeAllowedSigners(home, trusted);
  const args = [
    '-c',
    'gpg.format=ssh',
    '-c',
    `gpg.ssh.allowedSignersFile=${allowed}`,
    'verify-commit',
    commit,
  ];
  return git(dir, args, { env: gitEnv() }).then(
    () => true,
    () => false,
  );
}

/**
 * Our SSH note line for `commit` signed by `key`: `ssh-keygen -Y sign -n git` over the 40-hex
 * commit id (no newline), the armor's base64 joined into one line. Appended to the commit's note
 * on refs/notes/signatures like werf's PGP lines; latest-signature moves along.
 */
export async function addSshSignatureNote(
  repo: RepoPair,
  home: SshHome,
  commit: string,
  key: SshKeyPair,
  opts: { namespace?: string; signedText?: string } = {},
): Promise<string> {
  const armored = await sshSign(home, key, opts.signedText ?? commit, opts);
  const line = sshNoteLine(armored);
  await git(repo.work, ['notes', '--ref', 'signatures', 'append', '--file=-', commit], {
    input: line,
  });
  const notesCommit = (await git(repo.work, ['rev-parse', 'refs/notes/signatures']))
    .toString()
    .trim();
  await moveLatestSignatureTag(repo, notesCommit, false);
  return line;
}

/** Armored SSH signature → note line: the base64 between the BEGIN and END lines, joined. */
export function sshNoteLine(armored: string): string {
  return armored
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('-----'))
    .join('');
}
