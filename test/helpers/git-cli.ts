/**
 * Plain `git` for tests: make repositories, commits, notes and tags in temp dirs with the
 * hermetic environment (no user or system config). Unsigned; signed commits live in git-repo.ts.
 */
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { hermeticEnv } from './bench.js';

const execFileP = promisify(execFile);

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.test',
};

/** Run git in `cwd`; resolves stdout (utf8), rejects with stderr in the message. */
export async function git(
  cwd: string,
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<string> {
  try {
    const r = await execFileP('git', args, {
      cwd,
      env: hermeticEnv({ ...IDENTITY, ...opts.env }),
      maxBuffer: 64 * 1024 * 1024,
    });
    return r.stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${err.stderr ?? err.message}`);
  }
}

/** Run git and return stdout as raw bytes (for byte-exact comparisons). */
export async function gitBytes(cwd: string, args: string[]): Promise<Buffer> {
  const r = await execFileP('git', args, {
    cwd,
    env: hermeticEnv(IDENTITY),
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return r.stdout;
}

/** A fresh temp dir; remove it with `removeDir`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `fg-${prefix}-`));
}

/** Remove a dir tree (ignores absence). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A bare "origin" at `<parent>/<name>.git`; returns its path. */
export async function initBare(parent: string, name = 'origin'): Promise<string> {
  const dir = join(parent, `${name}.git`);
  mkdirSync(dir, { recursive: true });
  await git(dir, ['init', '--quiet', '--bare', '--initial-branch=main']);
  return dir;
}

/** A working repo at `<parent>/<name>` whose remote `origin` is `originUrl`. */
export async function initWork(parent: string, originUrl: string, name = 'work'): Promise<string> {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  await git(dir, ['init', '--quiet', '--initial-branch=main']);
  await git(dir, ['remote', 'add', 'origin', originUrl]);
  return dir;
}

/** A file to write: text, or text with a mode (e.g. 0o755 for an executable). */
export type FileSpec = string | { readonly content: string; readonly mode: number };

/** Write `files`, stage everything, commit; returns the new commit id. */
export async function commitFiles(
  repo: string,
  files: Record<string, FileSpec>,
  message = 'change',
): Promise<string> {
  for (const [path, spec] of Object.entries(files)) {
    const full = join(repo, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof spec === 'string' ? spec : spec.content);
    if (typeof spec !== 'string') chmodSync(full, spec.mode);
  }
  await git(repo, ['add', '--all']);
  await git(repo, ['commit', '--quiet', '--allow-empty', '-m', message]);
  return (await git(repo, ['rev-parse', 'HEAD'])).trim();
}

/** Append a line to the note of `commit` on refs/notes/signatures (as `git signatures` does). */
export async function appendSignatureNote(
  repo: string,
  commit: string,
  line: string,
): Promise<void> {
  await git(repo, ['notes', '--ref=signatures', 'append', '-m', line, commit]);
}

/** Point tag `latest-signature` at the current signatures notes commit (annotated if asked). */
export async function tagLatestSignature(repo: string, annotated: boolean): Promise<string> {
  const args = ['tag', '--force'];
  if (annotated) args.push('-a', '-m', 'latest signature');
  await git(repo, [...args, 'latest-signature', 'refs/notes/signatures']);
  return (await git(repo, ['rev-parse', 'refs/tags/latest-signature'])).trim();
}

/** Force-push the given refspecs to `origin`. */
export async function push(repo: string, ...refspecs: string[]): Promise<void> {
  await git(repo, ['push', '--quiet', '--force', 'origin', ...refspecs]);
}

/** Full object id of `rev` in `repo`. */
export async function revParse(repo: string, rev: string): Promise<string> {
  return (await git(repo, ['rev-parse', '--verify', rev])).trim();
}

/** Run git with `input` on stdin; resolves stdout. */
export async function gitInput(cwd: string, args: string[], input: string): Promise<string> {
  return new Promise((resolveP, reject) => {
    const child = spawn('git', args, { cwd, env: hermeticEnv(IDENTITY) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolveP(out) : reject(new Error(`git ${args.join(' ')}: ${err}`)),
    );
    child.stdin.end(input);
  });
}

/** One note to place by hand: `fanout` = number of 2-hex directory levels (0 = flat). */
export interface HandNote {
  readonly commit: string;
  readonly text: string;
  readonly fanout: number;
}

interface TreeNode {
  blobs: Map<string, string>;
  dirs: Map<string, TreeNode>;
}

async function writeTree(repo: string, node: TreeNode): Promise<string> {
  const lines: string[] = [];
  for (const [name, oid] of node.blobs) lines.push(`100644 blob ${oid}\t${name}`);
  for (const [name, child] of node.dirs)
    lines.push(`040000 tree ${await writeTree(repo, child)}\t${name}`);
  return (await gitInput(repo, ['mktree'], lines.join('\n') + '\n')).trim();
}

/**
 * Build a notes commit by hand (git mktree + commit-tree) with each note at the fan-out asked
 * for, and point `ref` at it: the way to get fanned-out trees without writing 256+ notes.
 */
export async function writeNotesTree(
  repo: string,
  notes: readonly HandNote[],
  ref = 'refs/notes/signatures',
): Promise<string> {
  const root: TreeNode = { blobs: new Map(), dirs: new Map() };
  for (const n of notes) {
    const blob = (await gitInput(repo, ['hash-object', '-w', '--stdin'], n.text)).trim();
    let node = root;
    for (let i = 0; i < n.fanout; i++) {
      const part = n.commit.slice(i * 2, i * 2 + 2);
      let next = node.dirs.get(part);
      if (!next) {
        next = { blobs: new Map(), dirs: new Map() };
        node.dirs.set(part, next);
      }
      node = next;
    }
    node.blobs.set(n.commit.slice(n.fanout * 2), blob);
  }
  const tree = await writeTree(repo, root);
  const commit = (await git(repo, ['commit-tree', '-m', 'Notes added by hand', tree])).trim();
  await git(repo, ['update-ref', ref, commit]);
  return commit;
}

/** Command lines of running processes that contain `needle` (to prove nothing was left behind). */
export function processesWith(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
