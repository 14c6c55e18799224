/**
 * One git call through simple-git: a fresh instance per call so each call gets its own abort
 * signal (the per-call timeout), the pinned environment, and errors that keep the exit code.
 * This is the only file that imports simple-git.
 */
import { GitError, GitPluginError, simpleGit, type SimpleGit } from 'simple-git';
import { AppError } from '../errors.js';
import type { GitSlots } from './concurrency.js';
import { GIT_ENV_KEYS } from './env.js';
import { classifyGitFailure } from './errors.js';

/**
 * A git process that exited non-zero; keeps the code so `exit 1 = false` can be told apart. It
 * extends simple-git's GitError so simple-git passes it through instead of wrapping it.
 */
export class GitExitError extends GitError {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(undefined, `git exited with code ${exitCode}`);
    this.name = 'GitExitError';
  }
}

/** How one call runs. */
export interface GitCall {
  /** The git subcommand, for messages (`ls-remote`, `fetch`, …). */
  readonly op: string;
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  /** The remote URL, for messages (redacted there). */
  readonly url?: string;
  /** Values scrubbed from any message. */
  readonly secrets?: readonly string[];
  /** Exit codes that are answers, not failures (returned as GitExitError to the caller). */
  readonly answerExitCodes?: readonly number[];
  /**
   * The process's bound on git processes: the call waits for a slot before git is spawned (the
   * timeout starts once it has one). Absent only in tests of this adapter.
   */
  readonly slots?: GitSlots;
}

function keepExitCode(
  error: Buffer | Error | undefined,
  result: { stdErr: Buffer[]; exitCode: number },
): Buffer | Error | undefined {
  // Plugin errors (abort, timeout, blocked env) stay as they are; any non-zero exit becomes ours.
  if (error instanceof GitPluginError) return error;
  if (result.exitCode !== 0) {
    return new GitExitError(result.exitCode, Buffer.concat(result.stdErr).toString('utf8'));
  }
  return error;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * simple-git waits a further 50 ms after `close` when a process printed nothing (fetch --quiet,
 * merge-base --is-ancestor, checkout, update-ref: most of our calls), in case output is still on
 * its way. We wait for `close`, when stdout has already ended, so that wait only adds latency:
 * an empty chunk at the end of stdout tells simple-git that output was seen (the bytes collected
 * are unchanged).
 */
function markStreamEnd(_command: string, stdout: NodeJS.ReadableStream): void {
  stdout.once('end', () => stdout.emit('data', NO_BYTES));
}

/** Runs git in `dir` (the bare mirror) with the guards of one call, holding one git slot. */
export function runGit<T>(
  dir: string,
  call: GitCall,
  task: (git: SimpleGit) => Promise<T>,
): Promise<T> {
  return call.slots ? call.slots.run(() => runGitNow(dir, call, task)) : runGitNow(dir, call, task);
}

async function runGitNow<T>(
  dir: string,
  call: GitCall,
  task: (git: SimpleGit) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(call.timeoutMs);
  const git = simpleGit({
    baseDir: dir,
    abort: signal,
    maxConcurrentProcesses: 1,
    trimmed: false,
    allowEnvironment: GIT_ENV_KEYS,
    errors: keepExitCode,
    // We set these ourselves, on purpose, with values we control (never from the remote).
    unsafe: {
      allowUnsafeSshCommand: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeConfigPaths: true,
    },
  })
    .env(call.env)
    .outputHandler(markStreamEnd);
  try {
    return await task(git);
  } catch (e) {
    throw toGitAppError(e, call, signal.aborted);
  }
}

function toGitAppError(e: unknown, call: GitCall, aborted: boolean): Error {
  const base = {
    op: call.op,
    ...(call.url !== undefined ? { url: call.url } : {}),
    ...(call.secrets !== undefined ? { secrets: call.secrets } : {}),
  };
  if (aborted || (e instanceof GitPluginError && e.plugin === 'timeout')) {
    return classifyGitFailure({ ...base, stderr: '', timedOutAfterMs: call.timeoutMs });
  }
  if (e instanceof GitExitError) {
    if (call.answerExitCodes?.includes(e.exitCode) && e.stderr.trim() === '') return e;
    return classifyGitFailure({ ...base, stderr: e.stderr, exitCode: e.exitCode });
  }
  if (e instanceof AppError) return e;
  if (e instanceof GitError) {
    // Anything else simple-git raised: still classified, still scrubbed of secrets.
    return classifyGitFailure({ ...base, stderr: e.message });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new AppError('GIT_FAILED', `git ${call.op}: ${message}`, { details: { op: call.op } });
}
