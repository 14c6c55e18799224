/**
 * Run the service as a real separate process (`node --import tsx src/main.ts serve …`), for
 * tests that must kill it (kill -9) and start it again on the same data directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './bench.js';
import { waitFor } from './net.js';

/** A service process. */
export interface ServiceProcess {
  readonly addr: string;
  readonly token: string;
  readonly child: ChildProcess;
  /** Output so far (stdout and stderr). */
  output(): string;
  /** SIGKILL, no chance to clean up. */
  kill9(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/** The address from the service's `listening` log line (JSON, info level), once written. */
function listeningAddress(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"listening"')) continue;
    try {
      const address = (JSON.parse(line) as { address?: unknown }).address;
      if (typeof address === 'string') return address;
    } catch {
      // a partial line: not yet
    }
  }
  return undefined;
}

/** Start `flant-gitops serve` on a port it binds itself, with `dataDir`; waits for /healthz. */
export async function spawnService(
  dataDir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/main.ts'),
      'serve',
      // Port 0: the service binds a free port itself and logs the address it listens on.
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--container-network',
      'host',
      '--tick-seconds',
      '1',
      '--local-repo-root',
      tmpdir(),
      ...args,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test', ...env },
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let addr = '';
  try {
    await waitFor(
      'the service to log the address it listens on',
      async () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${out}`);
        addr = listeningAddress(out) ?? '';
        return addr !== '' && (await fetch(`${addr}/healthz`)).ok;
      },
      30_000,
    );
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`service did not start: ${(e as Error).message}\n${out.slice(-3000)}`);
  }
  const token = (await readFile(join(dataDir, 'root-token'), 'utf8')).trim();
  return {
    addr,
    token,
    child,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** A Vault-style call to a mount of a service (process or in-process): status and `data`. */
export async function mountApi(
  s: { readonly addr: string; readonly token: string },
  mount: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: Record<string, unknown> }> {
  const res = await fetch(`${s.addr}/v1/${mount}/${path}`, {
    method,
    headers: { 'x-vault-token': s.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as { data?: Record<string, unknown> }) : {};
  return { status: res.status, data: json.data ?? {} };
}

/** Ids of the containers labelled with `mount` (all of them, or only the running ones). */
export function mountContainers(mount: string, opts: { running?: boolean } = {}): string[] {
  const all = opts.running ? [] : ['-a'];
  return execFileSync(
    'docker',
    ['ps', ...all, '-q', '--filter', `label=flant-gitops.mount=${mount}`],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean);
}
