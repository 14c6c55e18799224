/**
 * Runs a command-line tool (git, gpg) for the test helpers: stdin as bytes, stdout as bytes, a
 * timeout, and an error that names the command and shows its stderr when it fails. Shared by
 * gpg.ts and git-repo.ts so both report failures the same way.
 */
import { spawn } from 'node:child_process';

/** What a finished tool call printed. */
export interface ToolResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Options of one tool call. */
export interface ToolOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Bytes written to stdin (stdin is closed either way). */
  readonly input?: Uint8Array | string;
  /** Kill the tool after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/** Run `cmd args` and resolve with its output; reject (naming the command) on a non-zero exit. */
export function runTool(
  cmd: string,
  args: readonly string[],
  opts: ToolOptions,
): Promise<ToolResult> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) {
        resolveP({ stdout, stderr });
        return;
      }
      const how = signal ? `signal ${signal}` : `exit code ${String(code)}`;
      reject(new Error(`\`${cmd} ${args.join(' ')}\` failed (${how}): ${stderr.trim()}`));
    });
    child.stdin.on('error', () => {
      /* the tool may exit before reading stdin; its exit code tells the story */
    });
    child.stdin.end(opts.input ?? '');
  });
}
