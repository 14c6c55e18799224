/**
 * Generated repositories for the git benchmarks: a bare origin with thousands of commits and a
 * git-signatures notes tree, written in one `git fast-import` stream (seconds, not minutes), and
 * one more commit (plus its note) appended the same way, as a push would add it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './proc.js';

/** A generated bare repository. */
export interface GeneratedRepo {
  readonly root: string;
  /** The bare origin (file:// URL: `url`). */
  readonly origin: string;
  readonly url: string;
  readonly branch: string;
  cleanup(): Promise<void>;
}

const WHO = 'Bench <bench@example.test>';

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/** Create a bare repo with `commits` commits on main and one note per commit. */
export async function generateRepo(commits: number): Promise<GeneratedRepo> {
  const root = await mkdtemp(join(tmpdir(), 'fg-bench-repo-'));
  const origin = join(root, 'origin.git');
  await git(root, ['init', '-q', '--bare', '-b', 'main', origin]);
  const parts: string[] = [];
  const t0 = 1_700_000_000;
  for (let i = 1; i <= commits; i++) {
    parts.push(
      `commit refs/heads/main\nmark :${i}\ncommitter ${WHO} ${t0 + i} +0000\n`,
      data(`change ${i}`),
      `M 100644 inline files/f${i % 500}.txt\n`,
      data(`content ${i}\n`),
    );
  }
  parts.push(`commit refs/notes/signatures\ncommitter ${WHO} ${t0 + commits + 1} +0000\n`);
  parts.push(data('signatures'));
  for (let i = 1; i <= commits; i++) {
    parts.push(`N inline :${i}\n`, data(`c2lnbmF0dXJlLW9m${String(i).padStart(8, '0')}`));
  }
  await git(origin, ['fast-import', '--quiet'], parts.join(''));
  await git(origin, ['tag', 'latest-signature', 'refs/notes/signatures']);
  await git(origin, ['gc', '--quiet']);
  return {
    root,
    origin,
    url: `file://${origin}`,
    branch: 'main',
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Append one commit (a changed file) and its note, as one push would; returns the commit id. */
export async function appendCommit(repo: GeneratedRepo, n: number): Promise<string> {
  const at = Math.floor(Date.now() / 1000);
  const stream =
    `commit refs/heads/main\nmark :1\ncommitter ${WHO} ${at} +0000\n` +
    data(`bench change ${n}`) +
    `from refs/heads/main^0\nM 100644 inline bench/n${n}.txt\n` +
    data(`bench ${n}\n`) +
    `commit refs/notes/signatures\ncommitter ${WHO} ${at} +0000\n` +
    data(`note ${n}`) +
    `from refs/notes/signatures^0\nN inline :1\n` +
    data(`YmVuY2gtbm90ZS0${String(n).padStart(6, '0')}`);
  await git(repo.origin, ['fast-import', '--quiet'], stream);
  return (await git(repo.origin, ['rev-parse', 'refs/heads/main'])).trim();
}
