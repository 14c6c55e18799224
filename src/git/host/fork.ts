/**
 * Starting the git host process (host/main.ts) as a child of the service: `child_process.fork`
 * with an IPC channel using the V8 serializer (it carries Uint8Array), a small young generation
 * and heap cap so the host's resident set — and so the cost of each git fork from it — stays
 * small, and an environment of PATH, HOME and TMPDIR only: no secret of the service's environment
 * reaches the host, and the remote's credentials come later, over the pipe.
 *
 * The host leads its own process group (`detached`), so stopping it can end the git processes
 * it started too. From the compiled service (dist/) it runs dist/git/host/main.js; from the
 * TypeScript sources (tests, `tsx src/main.ts`) main.ts through tsx's loader.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostMessage, HostRequest } from './protocol.js';

/**
 * Node flags of the host: a 1 MiB semi-space (V8's default young generation alone is 16–32 MiB)
 * and an old-space cap far above what a thousand mirrors need; a host that still runs out is
 * replaced by a new one on the next call.
 */
export const GIT_HOST_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--max-old-space-size=128',
];

/** A running host, as the client (host/client.ts) sees it. */
export interface HostConnection {
  readonly pid: number | undefined;
  /** Send one request; `onError` when it cannot be sent (the channel is closed). */
  send(message: HostRequest, onError: (e: Error) => void): void;
  onMessage(handler: (message: HostMessage) => void): void;
  /** Called once when the process is gone (exit, or it could not be started). */
  onExit(handler: (code: number | null, signal: string | null) => void): void;
  /** Whether the host keeps the service's event loop alive (only while calls are in flight). */
  ref(on: boolean): void;
  /** Ask the host to end (disconnect), SIGKILL its process group after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** The host's entry and the node flags it needs to run, relative to this file. */
export function gitHostEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./main.js', import.meta.url));
  if (existsSync(js)) return { file: js, execArgv: [] };
  const ts = fileURLToPath(new URL('./main.ts', import.meta.url));
  // Sources, not dist/: tsx's loader, resolved from here so the service's cwd does not matter.
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return { file: ts, execArgv: ['--import', pathToFileURL(tsx).href] };
}

function hostEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** Fork a new git host. */
export function forkGitHost(): HostConnection {
  const entry = gitHostEntry();
  const child: ChildProcess = fork(entry.file, [], {
    execArgv: [...GIT_HOST_NODE_FLAGS, ...entry.execArgv],
    env: hostEnv(),
    serialization: 'advanced',
    // stdout stays the service's (its logs; the plugin's handshake); a host crash goes to stderr.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    detached: true,
  });
  const exitHandlers: ((code: number | null, signal: string | null) => void)[] = [];
  let exited = false;
  const gone = (code: number | null, signal: string | null): void => {
    if (exited) return;
    exited = true;
    for (const h of exitHandlers) h(code, signal);
  };
  child.once('exit', (code, signal) => gone(code, signal));
  // A process that could not be started (EAGAIN, ENOMEM) emits only 'error'.
  child.on('error', () => {
    if (child.pid === undefined || child.exitCode !== null) gone(child.exitCode, null);
  });
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };
  return {
    pid: child.pid,
    send(message, onError) {
      if (!child.connected) {
        onError(new Error('the git host channel is closed'));
        return;
      }
      child.send(message, (e) => {
        if (e) onError(e);
      });
    },
    onMessage(handler) {
      child.on('message', (m) => handler(m as HostMessage));
    },
    onExit(handler) {
      exitHandlers.push(handler);
    },
    ref(on) {
      if (on) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    },
    async close(graceMs) {
      if (exited) return;
      const done = new Promise<void>((r) => exitHandlers.push(() => r()));
      if (child.connected) child.disconnect();
      else killGroup();
      const timer = setTimeout(killGroup, graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}
