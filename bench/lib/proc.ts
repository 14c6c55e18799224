/**
 * Child processes for the baselines (git, gpg, docker): spawned with the hermetic environment of
 * the test bench, stdout collected, a non-zero exit turned into an error naming the command.
 */
import { spawn } from 'node:child_process';
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
