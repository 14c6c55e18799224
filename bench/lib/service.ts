/**
 * The service for a benchmark, composed exactly as src/service.ts does (`startService`), in-process on a
 * free loopback port with a throw-away data dir — like test/helpers/service.ts, but logging at
 * `info` to nowhere, as production would (debug logging of every delivery would bench the logger).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { createLogger } from '../../src/logging.js';
import { startService, type RunningService } from '../../src/service.js';

/** A started service and a tiny client of its API. */
export interface BenchService {
  readonly service: RunningService;
  readonly addr: string;
  readonly token: string;
  /** `method /v1/<path>` with the root token; throws on a non-2xx answer. */
  api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** The `data` of a Vault-style envelope. */
export type ApiData = Record<string, unknown>;

/** Call the API of a service at `addr`. */
export async function callApi(
  addr: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiData> {
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  const json = text ? (JSON.parse(text) as { data?: ApiData }) : {};
  return json.data ?? {};
}

/** Start the service with `mounts`. */
export async function startBenchService(mounts: readonly string[]): Promise<BenchService> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fg-bench-svc-'));
  const cfg = loadServiceConfig(
    [
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--container-network',
      'host',
      '--log-level',
      'info',
      '--local-repo-root',
      tmpdir(),
      ...mounts.flatMap((m) => ['--mount', m]),
    ],
    {},
  );
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const service = await startService(cfg, createLogger({ level: 'info', destination: sink }));
  const token = (await readFile(cfg.rootTokenFile, 'utf8')).trim();
  const addr = service.address;
  return {
    service,
    addr,
    token,
    api: (method, path, body) => callApi(addr, token, method, path, body),
    async stop() {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
