/**
 * A loopback HTTP server that the commands of a mount call at the start and at the end of each
 * run (busybox wget; the plugin runs containers with network `host`). It keeps every event, and
 * at each start also counts the mount's running containers on this host's Docker (by the mount's
 * label): two runs of one mount overlap exactly when a start sees more than one.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** One hit. */
export interface RunEvent {
  readonly kind: 'start' | 'stop';
  readonly commit: string;
  /** A random id each run makes for itself. */
  readonly run: string;
  /** Date.now() on arrival. */
  readonly at: number;
  /**
   * At a start: running containers of the mount (-1 when not known). The calling container
   * itself is normally among them; 2 or more means two runs at once.
   */
  readonly running: number;
}

/** The marker server. */
export interface RunMarker {
  readonly url: string;
  readonly events: readonly RunEvent[];
  /**
   * Keep the next start hit of `commit` waiting for its answer (the run is certainly in flight)
   * until the returned function is called.
   */
  holdNextStart(commit: string): () => void;
  /** Count containers with this `flant-gitops.mount` label at each start. */
  watchMount(lane: string): void;
  /** The shell the mount runs: start hit, `sleep seconds`, stop hit. */
  command(sleepSeconds: number): string;
  /** Resolves at the first event matching `match` (past events included). */
  when(match: (e: RunEvent) => boolean, timeoutMs?: number): Promise<RunEvent>;
  close(): Promise<void>;
}

async function runningOf(lane: string): Promise<number> {
  const { stdout } = await execFileP('docker', [
    'ps',
    '-a',
    '--format',
    '{{.ID}} {{.State}} {{.Status}} {{.Labels}}',
    '--filter',
    `label=flant-gitops.mount=${lane}`,
  ]);
  const lines = stdout.split('\n').filter(Boolean);
  if (process.env['FG_MARKER_DEBUG']) process.stderr.write(`marker: ${lines.join(' | ')}\n`);
  // "created" too: dockerd may not have recorded "running" yet when a fresh container's first
  // command already calls (seen under load); exited, dead and removing containers run nothing.
  return lines.filter((l) => ['running', 'created', 'restarting'].includes(l.split(' ')[1] ?? ''))
    .length;
}

/** Start the marker on 127.0.0.1. */
export async function startRunMarker(): Promise<RunMarker> {
  const events: RunEvent[] = [];
  const waiters = new Set<() => void>();
  let lane: string | undefined;
  const holds = new Map<string, Promise<void>>();
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://marker');
    const kind = url.pathname === '/start' ? 'start' : url.pathname === '/stop' ? 'stop' : '';
    if (!kind) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const commit = url.searchParams.get('commit') ?? '';
    const run = url.searchParams.get('run') ?? '';
    const count = kind === 'start' && lane ? runningOf(lane).catch(() => -1) : Promise.resolve(-1);
    const held = kind === 'start' ? holds.get(commit) : undefined;
    if (held) holds.delete(commit);
    void count.then(async (running) => {
      events.push({ kind, commit, run, at, running });
      for (const w of [...waiters]) w();
      await held;
      res.end('ok\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    events,
    holdNextStart(commit) {
      let release = (): void => undefined;
      holds.set(
        commit,
        new Promise<void>((r) => {
          release = r;
        }),
      );
      return () => release();
    },
    watchMount(l) {
      lane = l;
    },
    command(sleepSeconds) {
      return [
        'RUN=$(cat /proc/sys/kernel/random/uuid)',
        `wget -q -O /dev/null "${url}/start?commit=$GIT_COMMIT&run=$RUN"`,
        `sleep ${sleepSeconds}`,
        `wget -q -O /dev/null "${url}/stop?commit=$GIT_COMMIT&run=$RUN"`,
      ].join('; ');
    },
    when(match, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const e = events.find(match);
          if (!e) return false;
          waiters.delete(check as () => void);
          clearTimeout(timer);
          resolve(e);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check as () => void);
          reject(new Error(`no matching marker event within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(check as () => void);
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
