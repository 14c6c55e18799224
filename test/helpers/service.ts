/**
 * Start the whole service in-process, exactly as src/service.ts composes it (startService), on a free
 * loopback port with a throw-away data dir, and capture its log lines so tests can scan them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { createLogger } from '../../src/logging.js';
import { startService, type RunningService } from '../../src/service.js';

/** A started service for a test. */
export interface TestService {
  readonly service: RunningService;
  /** http://127.0.0.1:<port> */
  readonly addr: string;
  /** The embedded root token ('' with delegated authorization). */
  readonly token: string;
  readonly dataDir: string;
  /** Every log line so far (JSON text). */
  logs(): string;
  /** Stop the service; `keepData` leaves the data dir for a restart. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** Start a service; `args` are extra `serve` flags. */
export async function startTestService(
  opts: { args?: string[]; dataDir?: string; mounts?: string[] } = {},
): Promise<TestService> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'fg-service-')));
  const mounts = (opts.mounts ?? ['flant_gitops']).flatMap((m) => ['--mount', m]);
  const cfg = loadServiceConfig(
    [
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--container-network',
      'host',
      '--tick-seconds',
      '1',
      '--log-level',
      'debug',
      // Test repositories are made under the temp dir (the data dir itself stays refused).
      '--local-repo-root',
      tmpdir(),
      ...mounts,
      ...(opts.args ?? []),
    ],
    {},
  );
  let captured = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      captured += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const service = await startService(cfg, logger);
  // Delegated authorization (--auth-vault-addr) has no root token of its own.
  const token =
    cfg.auth.mode === 'embedded' ? (await readFile(cfg.rootTokenFile, 'utf8')).trim() : '';
  return {
    service,
    addr: service.address,
    token,
    dataDir,
    logs: () => captured,
    async stop(stopOpts = {}) {
      await service.stop();
      if (!stopOpts.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
