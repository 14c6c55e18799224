/**
 * Hermetic git repositories for tests: a bare "origin" and a work repository in one temp dir,
 * commits (optionally `git commit -S` through real gpg), signature notes written the way werf's
 * git-signatures tool writes them, the `latest-signature` tag, fanned-out notes trees, and raw
 * reads through the git CLI. Global and system git config are switched off for every call.
 *
 * Usage:
 *   const repo = await createRepoPair();                 // afterAll(() => repo.cleanup())
 *   const c = await commitFile(repo, 'a.txt', 'x', { sign: { home, key: alice } });
 *   await addSignatureNote(repo, c, { home, key: bob });
 *   await push(repo);
 *   const raw = await readRawCommit(repo.origin, c);
 *   const note = await readNoteFromTag(repo.origin, c);
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hermeticEnv } from './bench.js';
import { detachSign, type GpgHome, type GpgKey } from './gpg.js';
import { runTool } from './run-tool.js';

/** The notes ref the git-signatures tool writes. */
export const SIGNATURES_REF = 'refs/notes/signatures';
/** The tag the git-signatures tool moves to the notes commit. */
export const LATEST_SIGNATURE_TAG = 'latest-signature';

/** A bare origin and a work repository whose `origin` remote points at it. */
export interface RepoPair {
  readonly root: string;
  /** Path of the bare repository (usable as a git URL). */
  readonly origin: string;
  /** Path of the work repository. */
  readonly work: string;
  readonly branch: string;
  /** Removes both repositories. */
  cleanup(): Promise<void>;
}

/** A gpg key and the home that holds its secret part. */
export interface Signer {
  readonly home: GpgHome;
  readonly key: GpgKey;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

/** Environment for git: hermetic, with a fixed identity, plus `extra` (e.g. GNUPGHOME). */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return hermeticEnv({ ...IDENTITY, ...extra });
}

/** Run `git -C dir args`; resolves with stdout bytes. */
export async function git(
  dir: string,
  args: readonly string[],
  opts: { input?: Uint8Array | string; env?: NodeJS.ProcessEnv } = {},
): Promise<Buffer> {
  const base = { env: opts.env ?? gitEnv() };
  const run = opts.input === undefined ? base : { ...base, input: opts.input };
  return (await runTool('git', ['-C', dir, ...args], run)).stdout;
}

/** `git … | trim` as text. */
async function gitText(dir: string, args: readonly string[]): Promise<string> {
  return (await git(dir, args)).toString('utf8').trim();
}

/** Create a bare origin and an empty work repository on `branch` (default main). */
export async function createRepoPair(opts: { branch?: string } = {}): Promise<RepoPair> {
  const branch = opts.branch ?? 'main';
  const root = await mkdtemp(join(tmpdir(), 'fg-git-'));
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  await runTool('git', ['init', '-q', '--bare', '-b', branch, origin], { env: gitEnv() });
  await runTool('git', ['init', '-q', '-b', branch, work], { env: gitEnv() });
  await git(work, ['remote', 'add', 'origin', origin]);
  return { root, origin, work, branch, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Options of one commit. */
export interface CommitOptions {
  readonly message?: string;
  /** `git commit -S` with this key (gpg chooses its signing subkey when it has one). */
  readonly sign?: Signer;
  /** Author and committer date. */
  readonly at?: Date;
}

/** Write `content` to `path` in the work tree and commit it; returns the commit id. */
export async function commitFile(
  repo: RepoPair,
  path: string,
  content: string | Uint8Array,
  opts: CommitOptions = {},
): Promise<string> {
  const file = join(repo.work, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  await git(repo.work, ['add', '--', path]);
  const extra: Record<string, string> = {};
  if (opts.at) {
    const when = `@${Math.floor(opts.at.getTime() / 1000)} +0000`;
    extra.GIT_AUTHOR_DATE = when;
    extra.GIT_COMMITTER_DATE = when;
  }
  const args = ['commit', '-q', '-m', opts.message ?? `change ${path}`];
  if (opts.sign) {
    extra.GNUPGHOME = opts.sign.home.dir;
    args.unshift('-c', 'gpg.program=gpg', '-c', `user.signingkey=${opts.sign.key.fingerprint}`);
    args.push('-S');
  }
  await git(repo.work, args, { env: gitEnv(extra) });
  return gitText(repo.work, ['rev-parse', 'HEAD']);
}

/** Options of one signature note. */
export interface NoteOptions {
  /** Move `latest-signature` as an annotated tag (default: lightweight). */
  readonly annotatedTag?: boolean;
  /** Sign this text instead of the commit id (e.g. another commit's id). */
  readonly signedText?: string;
  /** Sign as if at this time (gpg `--faked-system-time`). */
  readonly at?: Date;
}

/**
 * What `git signatures add` does: sign the 40-hex commit id (no newline) detached and binary,
 * append its base64 as a line to the commit's note on refs/notes/signatures, and move the
 * `latest-signature` tag to the notes commit. Returns the line and the notes commit.
 */
export async function addSignatureNote(
  repo: RepoPair,
  commit: string,
  signer: Signer,
  opts: NoteOptions = {},
): Promise<{ line: string; notesCommit: string }> {
  const text = opts.signedText ?? commit;
  const signOpts = opts.at ? { at: opts.at } : {};
  const line = (await detachSign(signer.home, signer.key, text, signOpts)).toString('base64');
  await git(repo.work, ['notes', '--ref', 'signatures', 'append', '--file=-', commit], {
    input: line,
  });
  const notesCommit = await gitText(repo.work, ['rev-parse', SIGNATURES_REF]);
  await moveLatestSignatureTag(repo, notesCommit, opts.annotatedTag ?? false);
  return { line, notesCommit };
}

/** Point `latest-signature` at `target`, lightweight or annotated. */
export async function moveLatestSignatureTag(
  repo: RepoPair,
  target: string,
  annotated: boolean,
): Promise<void> {
  const args = annotated
    ? ['tag', '-f', '-a', '-m', 'latest signature', LATEST_SIGNATURE_TAG, target]
    : ['tag', '-f', LATEST_SIGNATURE_TAG, target];
  await git(repo.work, args);
}

/** True when `ref` resolves in `dir`. */
export async function refExists(dir: string, ref: string): Promise<boolean> {
  return git(dir, ['rev-parse', '--verify', '-q', ref]).then(
    () => true,
    () => false,
  );
}

/** Force-push the branch, the notes ref and the latest-signature tag (those that exist). */
export async function push(repo: RepoPair): Promise<void> {
  const refs = [`refs/heads/${repo.branch}`, SIGNATURES_REF, `refs/tags/${LATEST_SIGNATURE_TAG}`];
  const specs: string[] = [];
  for (const ref of refs) if (await refExists(repo.work, ref)) specs.push(`+${ref}:${ref}`);
  await git(repo.work, ['push', '-q', 'origin', ...specs]);
}

/** The raw commit object, byte for byte (`git cat-file commit`). */
export async function readRawCommit(dir: string, commit: string): Promise<Uint8Array> {
  return new Uint8Array(await git(dir, ['cat-file', 'commit', commit]));
}

/** Store raw bytes as a commit object (`git hash-object -t commit -w`); returns its id. */
export async function writeRawCommit(dir: string, raw: Uint8Array): Promise<string> {
  return (await git(dir, ['hash-object', '-t', 'commit', '-w', '--stdin'], { input: raw }))
    .toString('utf8')
    .trim();
}

/**
 * The note on `commit` in the notes commit `notesCommitish`, flat or fanned out, read from the
 * tree without touching any ref; undefined when there is none (or the commitish does not exist).
 */
export async function readNote(
  dir: string,
  notesCommitish: string,
  commit: string,
): Promise<string | undefined> {
  if (!(await refExists(dir, `${notesCommitish}^{commit}`))) return undefined;
  const paths = (await gitText(dir, ['ls-tree', '-r', '--name-only', `${notesCommitish}^{commit}`]))
    .split('\n')
    .filter((p) => p.replaceAll('/', '') === commit);
  const [path] = paths;
  if (path === undefined) return undefined;
  return (await git(dir, ['cat-file', 'blob', `${notesCommitish}^{commit}:${path}`])).toString();
}

/** The note on `commit` under refs/notes/signatures. */
export function readNoteFromRef(dir: string, commit: string): Promise<string | undefined> {
  return readNote(dir, SIGNATURES_REF, commit);
}

/** The note on `commit` in the notes commit the latest-signature tag points to. */
export function readNoteFromTag(dir: string, commit: string): Promise<string | undefined> {
  return readNote(dir, `refs/tags/${LATEST_SIGNATURE_TAG}`, commit);
}

/** Paths of the notes tree (to assert a layout). */
export async function listNotePaths(dir: string, notesCommitish: string): Promise<string[]> {
  const out = await gitText(dir, ['ls-tree', '-r', '--name-only', `${notesCommitish}^{commit}`]);
  return out === '' ? [] : out.split('\n');
}

/** Split a 40-hex id into `levels` fan-out directories: 1 → ab/cdef…, 2 → ab/cd/ef…. */
export function fanOutPath(id: string, levels: number): string {
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(id.slice(2 * i, 2 * i + 2));
  parts.push(id.slice(2 * levels));
  return parts.join('/');
}

/**
 * Rewrite refs/notes/signatures (one new notes commit on top, via `git fast-import`) so that
 * every note sits at a fanned-out path, plus `fillers` extra notes on random ids, as git does by
 * itself once notes are many. Moves latest-signature along, keeping it annotated if it was.
 */
export async function fanOutNotes(
  repo: RepoPair,
  opts: { levels: 1 | 2; fillers?: number },
): Promise<string> {
  const parent = await gitText(repo.work, ['rev-parse', SIGNATURES_REF]);
  const listed = await gitText(repo.work, ['notes', '--ref', 'signatures', 'list']);
  const lines = [
    `commit ${SIGNATURES_REF}`,
    'committer Test Committer <committer@example.test> 1700000000 +0000',
    'data 14',
    'fan out notes',
    `from ${parent}`,
    'deleteall',
  ];
  for (const entry of listed.split('\n').filter(Boolean)) {
    const [blob, commit] = entry.split(' ');
    if (blob && commit) lines.push(`M 100644 ${blob} ${fanOutPath(commit, opts.levels)}`);
  }
  for (let i = 0; i < (opts.fillers ?? 0); i++) {
    const id = randomBytes(20).toString('hex');
    lines.push(`M 100644 inline ${fanOutPath(id, opts.levels)}`, 'data 7', 'filler');
  }
  await git(repo.work, ['fast-import', '--quiet'], { input: `${lines.join('\n')}\n` });
  const notesCommit = await gitText(repo.work, ['rev-parse', SIGNATURES_REF]);
  const tagRef = `refs/tags/${LATEST_SIGNATURE_TAG}`;
  if (await refExists(repo.work, tagRef)) {
    const annotated = (await gitText(repo.work, ['cat-file', '-t', tagRef])) === 'tag';
    await moveLatestSignatureTag(repo, notesCommit, annotated);
  }
  return notesCommit;
}

/** What `git verify-commit` says about `commit` with the keys in `home` (true = good signature). */
export async function verifyCommitWithGit(
  dir: string,
  commit: string,
  home: GpgHome,
): Promise<boolean> {
  const env = gitEnv({ GNUPGHOME: home.dir });
  return git(dir, ['-c', 'gpg.program=gpg', 'verify-commit', commit], { env }).then(
    () => true,
    () => false,
  );
}
