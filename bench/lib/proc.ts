/**
 * Child processes for the baselines (git, gpg, docker): spawned with the hermetic environment of
 * the test bench, stdout collected, a non-zero exit turned into an error naming the command.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { GIT_HOST_TITLE } from '../../src/git/host/protocol.js';
import { hermeticEnv } from '../../test/helpers/bench.js';

/** Options of one command. */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Uint8Array;
}

/** Run `cmd args`; resolves with stdout, rejects with stderr on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? hermeticEnv(),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')} exited ${String(code)}: ${Buffer.concat(err).toString()}`,
          ),
        );
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // a child may exit before reading its input
      child.stdin.end(opts.input);
    }
  });
}

/** `git args` in `dir` with the hermetic environment. */
export function git(dir: string, args: readonly string[], input?: string): Promise<string> {
  return run('git', ['-C', dir, ...args], input === undefined ? {} : { input });
}

/** A process's resident set and CPU time, read from /proc. */
export interface ProcSample {
  readonly rssKiB: number;
  /** utime+stime, and cutime+cstime (its reaped children), in clock ticks. */
  readonly selfTicks: number;
  readonly childTicks: number;
}

/** Read `pid`'s VmRSS from /proc/<pid>/status and its CPU ticks from /proc/<pid>/stat. */
export async function procSample(pid: number): Promise<ProcSample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime is field 14 (index 11 after the name).
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const at = (i: number): number => f[i] ?? Number.NaN;
  return { rssKiB: rss, selfTicks: at(11) + at(12), childTicks: at(13) + at(14) };
}

/** Children of `pid` (pid and command name), right now. */
export async function childrenOf(pid: number): Promise<{ pid: number; comm: string }[]> {
  const out: { pid: number; comm: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push({ pid: Number(entry), comm });
  }
  return out;
}

/** The service's git host process (its child named GIT_HOST_TITLE), if one runs. */
export async function gitHostOf(pid: number): Promise<number | undefined> {
  return (await childrenOf(pid)).find((c) => c.comm === GIT_HOST_TITLE)?.pid;
}
