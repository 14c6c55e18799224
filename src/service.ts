/**
 * Composition of one running service from its frozen config: the concrete adapters (file store,
 * simple-git mirrors, openpgp.js, node-vault, dockerode, node-cron), one runtime per mount, the
 * scheduler, the webhook receiver, metrics and the HTTP app. main.ts calls `startService`; the
 * end-to-end tests call it too, in-process, so they exercise exactly what users run.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { ApiServices } from './api/types.js';
import type { ServiceConfig } from './config/service-config.js';
import { SimpleGitMirrorFactory } from './git/index.js';
import {
  createDelegatedAuthorizer,
  createRootTokenAuthorizer,
  loadOrCreateRootToken,
  type Authorizer,
} from './http/auth.js';
import type { Logger } from './logging.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  collectAtScrape,
  createReadiness,
  instrumentMirrors,
  instrumentReceiver,
  instrumentRunner,
  instrumentRuntime,
  instrumentSignaturePolicy,
  instrumentVaultAccess,
} from './metrics-wiring.js';
import { createPipelineControl } from './pipeline/control.js';
import { createMountRuntime, type MountRuntime } from './pipeline/mount-runtime.js';
import { pipelineSignaturePolicy } from './pipeline/signature-policy.js';
import { createOpenPgpKeyInspector, createOpenPgpVerifier } from './pgp/openpgp.js';
import { createDockerRunner } from './runner/docker.js';
import { createCronTicker, everySeconds } from './scheduler/cron-ticker.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { openFileStore } from './storage/file-store.js';
import type { Store } from './storage/store.js';
import { createVaultAccessService } from './vault/access.js';
import { createDeliveryDeduper } from './webhook/dedupe.js';
import { createEndpointDirectory, observeWebhookWrites } from './webhook/endpoints.js';
import { loadFluxRecvEndpoints } from './webhook/flux-recv.js';
import { createForwarder } from './webhook/forward.js';
import { createWebhookReceiver } from './webhook/receiver.js';

/** A started service. */
export interface RunningService {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  readonly address: string;
  readonly scheduler: Scheduler;
  readonly runtimes: ReadonlyMap<string, MountRuntime>;
  readonly metrics: Metrics;
  /** Stop accepting requests, stop the scheduler (waiting for running polls), flush forwards. */
  stop(): Promise<void>;
}

/** Where the service keeps what it owns below its data directory. */
export function dataLayout(dataDir: string): { store: string; mirrors: string; runs: string } {
  return {
    store: join(dataDir, 'store'),
    mirrors: join(dataDir, 'mirrors'),
    runs: join(dataDir, 'runs'),
  };
}

async function buildAuthorizer(cfg: ServiceConfig, logger: Logger): Promise<Authorizer> {
  if (cfg.auth.mode === 'delegated') {
    logger.info({ vaultAddr: cfg.auth.vaultAddr }, 'authorization delegated to vault');
    return createDelegatedAuthorizer({ vaultAddr: cfg.auth.vaultAddr, logger });
  }
  return createRootTokenAuthorizer(await loadOrCreateRootToken(cfg.rootTokenFile, logger));
}

/** Options that tests may set; production uses the defaults. */
export interface StartOptions {
  /** Use this store instead of the file store under the data dir. */
  readonly store?: Store;
  readonly metrics?: Metrics;
}

/** Build every part from `cfg`, start the mounts and the scheduler, and listen. */
export async function startService(
  cfg: ServiceConfig,
  logger: Logger,
  opts: StartOptions = {},
): Promise<RunningService> {
  const layout = dataLayout(cfg.dataDir);
  await mkdir(layout.runs, { recursive: true, mode: 0o700 });
  await mkdir(layout.mirrors, { recursive: true, mode: 0o700 });
  const rawStore = opts.store ?? (await openFileStore(layout.store));
  const metrics = opts.metrics ?? createMetrics({ processMetrics: true });

  const endpoints = createEndpointDirectory({
    store: rawStore,
    staticEndpoints: cfg.fluxRecvConfig
      ? await loadFluxRecvEndpoints(cfg.fluxRecvConfig, cfg.mounts)
      : [],
    logger,
  });
  // API writes of webhooks or configurations refresh the receiver's endpoint index at once.
  const store = observeWebhookWrites(rawStore, () => endpoints.invalidate());

  const keyInspector = createOpenPgpKeyInspector();
  const verifier = createOpenPgpVerifier();
  const mirrors = new SimpleGitMirrorFactory();
  const runner = createDockerRunner({ logger, socketPath: cfg.dockerSocket });

  const runtimes = new Map<string, MountRuntime>();
  const services = new Map<string, ApiServices>();
  for (const mount of cfg.mounts) {
    // Metrics are decorators at our interfaces, one set per mount (see metrics-wiring.ts).
    const vaultAccess = instrumentVaultAccess(
      createVaultAccessService({ logger: logger.child({ mount }) }),
      metrics,
      mount,
    );
    const runtime = createMountRuntime({
      mount,
      store,
      mirrors: instrumentMirrors(mirrors, metrics, mount),
      mirrorRoot: layout.mirrors,
      verifier,
      checkSignatures: instrumentSignaturePolicy(pipelineSignaturePolicy, metrics, mount),
      vaultAccess,
      runner: instrumentRunner(runner, metrics, mount),
      logger,
      tempRoot: layout.runs,
      networkMode: cfg.containerNetwork,
    });
    runtimes.set(mount, instrumentRuntime(runtime, metrics));
    services.set(mount, { keyInspector, vaultAccess });
  }
  for (const rt of runtimes.values()) await rt.start();

  const scheduler = createScheduler({
    targets: () => runtimes,
    ticker: createCronTicker(everySeconds(cfg.tickSeconds)),
    logger,
  });
  const pipeline = createPipelineControl({ scheduler, runtime: (m) => runtimes.get(m) });
  for (const [mount, s] of services) services.set(mount, { ...s, pipeline });

  const forwarder = createForwarder(logger);
  const receiver = instrumentReceiver(
    createWebhookReceiver({
      endpoints,
      poller: scheduler,
      deduper: createDeliveryDeduper(),
      forwarder,
      logger,
    }),
    endpoints,
    metrics,
  );
  collectAtScrape(metrics, { mounts: () => runtimes.keys(), scheduler, forwards: forwarder });

  const app = buildApp({
    store,
    mounts: cfg.mounts,
    services: (m) => {
      const s = services.get(m);
      if (!s) throw new Error(`no services for mount ${m}`);
      return s;
    },
    authorizer: await buildAuthorizer(cfg, logger),
    logger,
    webhooks: { receiver },
    metrics,
    // Ready when the Docker engine answers and the store can be read (answer cached 5 s).
    ready: createReadiness({ runner, store: rawStore }),
  });
  const address = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  scheduler.start();
  logger.info(
    { address, mounts: cfg.mounts, dataDir: cfg.dataDir, auth: cfg.auth.mode },
    'listening',
  );
  return {
    app,
    address,
    scheduler,
    runtimes,
    metrics,
    async stop() {
      await app.close();
      await scheduler.stop();
      await forwarder.idle();
    },
  };
}
