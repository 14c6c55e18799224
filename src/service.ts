/**
 * The composition root: one running service from its frozen config — the concrete adapters (file
 * or KV store, simple-git mirrors, openpgp.js, node-vault, dockerode, node-cron), the settings
 * change hub, one runtime per mount, the scheduler, the webhook receiver, metrics and the HTTP
 * app. main.ts (the CLI) calls `startService`; the end-to-end tests call it too, in-process, so
 * they exercise exactly what users run.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { ApiServices } from './api/types.js';
import { createLocalRepoPolicy } from './config/local-repos.js';
import {
  assertWritableDir,
  dataLayout,
  loadOrCreateInstanceId,
  markRunning,
  sweepWorkDirs,
} from './config/data-layout.js';
import { createSettingsEvents } from './config/settings-events.js';
import type { ServiceConfig } from './config/service-config.js';
import {
  createDelegatedAuthorizer,
  createRootTokenAuthorizer,
  loadOrCreateRootToken,
  type Authorizer,
} from './http/auth.js';
import type { Logger } from './logging.js';
import { createMetrics, type Metrics } from './metrics.js';
import { collectAtScrape, createReadiness, instrumentReceiver } from './metrics-wiring.js';
import { composeMount, createSharedAdapters } from './mount-composition.js';
import { deferSweeps } from './runner/deferred-sweep.js';
import { createPipelineControl } from './pipeline/control.js';
import type { MountRuntime } from './pipeline/mount-runtime.js';
import { createOpenPgpKeyInspector } from './pgp/openpgp.js';
import { createCronTicker, everySeconds } from './scheduler/cron-ticker.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { createReplicaCoordinator, type ReplicaCoordinator } from './replicas/coordinator.js';
import { openConfiguredStore } from './storage/open.js';
import type { Store } from './storage/store.js';
import { createDeliveryDeduper } from './webhook/dedupe.js';
import { createEndpointDirectory } from './webhook/endpoints.js';
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

async function buildAuthorizer(cfg: ServiceConfig, logger: Logger): Promise<Authorizer> {
  if (cfg.auth.mode === 'delegated') {
    logger.info({ vaultAddr: cfg.auth.vaultAddr }, 'authorization delegated to vault');
    return createDelegatedAuthorizer({ vaultAddr: cfg.auth.vaultAddr, logger });
  }
  return createRootTokenAuthorizer(await loadOrCreateRootToken(cfg.rootTokenFile, logger));
}

/** Options that tests may set; production uses the defaults. */
export interface StartOptions {
  /** Use this store instead of the one the config names. */
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
  // Refuse at once, naming the fix, when the data dir is not ours to write (e.g. a bind mount
  // that Docker created root-owned): every run and mirror lives below it.
  await assertWritableDir(layout.runs, cfg.dataDir);
  await assertWritableDir(layout.mirrors, cfg.dataDir);
  await assertWritableDir(layout.tmp, cfg.dataDir);
  // What a killed process left (run dirs, SSH key copies, half-made mirrors) goes first.
  const swept = await sweepWorkDirs(cfg.dataDir);
  if (swept.removed > 0) {
    logger.info({ removed: swept.removed }, 'work dirs of a previous process removed');
  }
  if (swept.failed.length > 0) {
    logger.warn({ failed: swept.failed }, 'work dirs of a previous process could not be removed');
  }
  const running = await markRunning(cfg.dataDir);
  const store = opts.store ?? (await openConfiguredStore(cfg, logger));
  const instanceId = await loadOrCreateInstanceId(cfg.dataDir);
  const metrics = opts.metrics ?? createMetrics({ processMetrics: true });

  // Settings writes (API, vault access rotation) are announced here; the endpoint index listens.
  const settingsEvents = createSettingsEvents();
  const endpoints = createEndpointDirectory({
    store,
    settingsEvents,
    // The flux-recv reader (and its YAML parser) is loaded only when such a file is given.
    staticEndpoints: cfg.fluxRecvConfig
      ? await (
          await import('./webhook/flux-recv.js')
        ).loadFluxRecvEndpoints(cfg.fluxRecvConfig, cfg.mounts)
      : [],
    logger,
  });

  const keyInspector = createOpenPgpKeyInspector();
  const adapters = createSharedAdapters({
    logger,
    dockerSocket: cfg.dockerSocket,
    gitSafeDirectories: cfg.gitSafeDirectories,
    gitConfigFile: join(cfg.dataDir, 'gitconfig'),
    gitConcurrency: cfg.gitConcurrency,
    gitTmpDir: layout.tmp,
    // git runs in one small child process: a fork from this big one stalls its event loop.
    git: 'host',
  });
  const { runner } = adapters;
  // With the file store this process owns every mount, and after a clean stop nothing of ours is
  // left: the mounts' start-up sweeps wait for the first engine call, so an idle service never
  // loads the Docker client. After a crash they are swept right after the mounts start, all in
  // one engine listing. With replicas a mount is swept when its lease is won.
  const deferred =
    cfg.storage.kind === 'vault-kv'
      ? undefined
      : deferSweeps(runner, logger.child({ component: 'runner' }));
  const mountAdapters = deferred === undefined ? adapters : { ...adapters, runner: deferred };

  const localRepos = createLocalRepoPolicy({ roots: cfg.localRepoRoots, dataDir: cfg.dataDir });
  const runtimes = new Map<string, MountRuntime>();
  const services = new Map<string, ApiServices>();
  for (const mount of cfg.mounts) {
    // Metrics are decorators at our interfaces, one set per mount (see metrics-wiring.ts).
    const { runtime, vaultAccess } = composeMount({
      mount,
      store,
      adapters: mountAdapters,
      mirrorRoot: layout.mirrors,
      tempRoot: layout.runs,
      networkMode: cfg.containerNetwork,
      instanceId,
      settingsEvents,
      // On the file store every settings write goes through this process's API (and is
      // announced); Vault KV replicas write the same mounts, so their caches age out.
      soleWriter: cfg.storage.kind !== 'vault-kv',
      logger,
      metrics,
      localRepos,
    });
    runtimes.set(mount, runtime);
    services.set(mount, { keyInspector, vaultAccess, settingsEvents, localRepos });
  }

  // With a shared KV store several replicas may serve the same mounts: only the holder of a
  // mount's lease polls and runs it. With the file store this process owns every mount.
  let coordinator: ReplicaCoordinator | undefined;
  const active = (): ReadonlyMap<string, MountRuntime> =>
    coordinator === undefined
      ? runtimes
      : new Map([...runtimes].filter(([m]) => coordinator?.holds(m)));
  const scheduler = createScheduler({
    targets: active,
    ticker: createCronTicker(everySeconds(cfg.tickSeconds)),
    logger,
    onPeriodicStart: (_mount, ms, overran) =>
      metrics.pollLateness.observe({ previous_poll: overran ? 'overran' : 'ended' }, ms / 1000),
  });
  if (cfg.storage.kind === 'vault-kv') {
    coordinator = createReplicaCoordinator({
      store,
      mounts: cfg.mounts,
      holder: cfg.replicaId,
      ttlMs: cfg.leaseTtlSeconds * 1000,
      logger,
      // A won lease: recover what a dead holder left, then poll at once (at-least-once).
      onAcquire: async (mount) => {
        await runtimes.get(mount)?.start();
        scheduler.requestPoll(mount, 'lease won');
      },
      onPoll: (mount, reason) => scheduler.requestPoll(mount, reason),
    });
  } else {
    for (const rt of runtimes.values()) await rt.start();
    if (running.uncleanStop) await deferred?.flushSweeps();
  }
  const poller = coordinator ?? scheduler;
  const pipeline = createPipelineControl({
    scheduler: { ...scheduler, requestPoll: (m, r) => poller.requestPoll(m, r) },
    runtime: (m) => runtimes.get(m),
  });
  for (const [mount, s] of services) services.set(mount, { ...s, pipeline });

  const forwarder = createForwarder(logger);
  const receiver = instrumentReceiver(
    createWebhookReceiver({
      endpoints,
      poller,
      deduper: createDeliveryDeduper(),
      forwarder,
      logger,
    }),
    endpoints,
    metrics,
  );
  collectAtScrape(metrics, {
    mounts: () => runtimes.keys(),
    scheduler,
    forwards: forwarder,
    gitSlots: adapters.gitSlots,
  });

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
    // Ready when the Docker engine answers, the store can be read and the data dir written
    // (answer cached 5 s).
    ready: createReadiness({
      runner,
      store,
      writable: () => assertWritableDir(layout.runs, cfg.dataDir),
    }),
  });
  const address = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  scheduler.start();
  coordinator?.start();
  // After a crash, what was being polled or run is polled again at once (as a won KV lease is),
  // not at the next periodic poll.
  if (running.uncleanStop && coordinator === undefined) {
    logger.info({}, 'the previous process did not stop cleanly: polling every mount now');
    for (const mount of runtimes.keys()) scheduler.requestPoll(mount, 'restart after a crash');
  }
  logger.info(
    {
      address,
      mounts: cfg.mounts,
      dataDir: cfg.dataDir,
      auth: cfg.auth.mode,
      storage: cfg.storage.kind,
      ...(coordinator ? { replica: cfg.replicaId } : {}),
    },
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
      await coordinator?.stop();
      await forwarder.idle();
      await adapters.close();
      await running.clear();
    },
  };
}
