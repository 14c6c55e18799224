/**
 * The plugin's background work: the mount's runtime (pipeline, signature gate, wrapped Vault
 * requests, Docker runs) composed exactly as the service composes it (mount-composition.ts), its
 * scheduler, and the webhook listener. OpenBao calls Initialize on every unsealed node of a
 * cluster, standbys included, so Initialize only starts the mount's guard (mount-lease.ts): the
 * work runs while this process holds the mount's lease, which only the active node can write.
 * Cleanup stops it (background.ts says why never earlier than Initialize). Storage is the mount's brokered storage; git mirrors
 * and run dirs live below the plugin's local data dir.
 *
 * Stopping must be prompt: after Cleanup the host sends Shutdown and kills the process 2 s
 * later, and writes made after Cleanup may land after an unmount cleared the mount's storage. So
 * stop aborts the running task at once (its run kills and removes its container and records
 * CANCELED; the commit stays unrecorded and runs again later) and waits a bounded time.
 */
import { join } from 'node:path';
import type { LocalRepoPolicy } from '../config/local-repos.js';
import { AppError } from '../errors.js';
import { composeMount, createSharedAdapters } from '../mount-composition.js';
import type { PipelineControl } from '../pipeline/control.js';
import type { MountRuntime } from '../pipeline/mount-runtime.js';
import { createCronTicker, everySeconds } from '../scheduler/cron-ticker.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import type { VaultAccessService } from '../vault/types.js';
import type { BackgroundContext, BackgroundFactory, BackgroundWork } from './background.js';
import { wholeStoreView } from './mount-store.js';
import { loadOrCreateMountId, prepareWorkDirs } from './mount-identity.js';
import { hostId } from './host-id.js';
import { createMountGuard, holderId, type MountGuard } from './mount-lease.js';
import { readPluginSettings, type PluginSettings } from './plugin-settings.js';
import { READ_ONLY_STORAGE } from './storage-client.js';
import { startWebhookListener, type WebhookListener } from './webhook-listener.js';

/** What main.ts gives the factory. */
export interface PluginBackgroundDeps {
  /** The Vault access service the API paths use (configure_vault_access): one per process. */
  readonly vaultAccess: VaultAccessService;
  /** The registration's args (`-args=…`) and the process environment. */
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** How long stop may wait for the aborted run to finish (default 1.5 s; the host allows 2). */
  readonly stopBudgetMs?: number;
  /** The host operator's approved local repository roots (see plugin-settings.ts). */
  readonly localRepos?: LocalRepoPolicy;
  /** Lifetime of the mount's lease (default PLUGIN_LEASE_TTL_MS). */
  readonly leaseTtlMs?: number;
}

/** Tasks that Cleanup aborts end CANCELED with this reason. */
export const STOP_REASON = 'plugin stopped (unmount, reload or seal)';
/** Tasks a killed plugin process left behind end CANCELED with this reason. */
export const RESTART_REASON = 'plugin restarted';

/**
 * What poll and task cancel answer on a node that does not run the mount: OpenBao's read-only
 * storage error, so that a standby forwards the request to the active node (which runs it).
 */
const notHere = (): AppError =>
  new AppError(
    'STORAGE_FAILED',
    `this node does not run the mount now (a standby): ${READ_ONLY_STORAGE}`,
    { details: { readOnly: true } },
  );

interface Running {
  readonly lane: string;
  readonly runtime: MountRuntime;
  readonly scheduler: Scheduler;
  readonly listener: WebhookListener | undefined;
}

async function startRunning(
  ctx: BackgroundContext,
  deps: PluginBackgroundDeps,
  settings: PluginSettings,
): Promise<Running> {
  const lane = await loadOrCreateMountId(ctx.store);
  const dirs = await prepareWorkDirs(ctx.dataDir, lane);
  // The runtime and the webhook directory expect the service's whole store; the lane is its
  // name for this mount (OpenBao tells the mount path only with requests).
  const store = wholeStoreView(ctx.store, () => lane);
  const logger = ctx.logger.child({ lane });
  const { runtime } = composeMount({
    mount: lane,
    store,
    adapters: createSharedAdapters({
      logger,
      dockerSocket: settings.dockerSocket,
      // Written before the first git call, in this mount's own dir (one process per mount).
      gitSafeDirectories: settings.gitSafeDirectories,
      gitConfigFile: join(dirs.root, 'gitconfig'),
      gitTmpDir: dirs.tmp,
    }),
    mirrorRoot: dirs.mirrors,
    tempRoot: dirs.runs,
    networkMode: settings.containerNetwork,
    // The mount's id labels its containers, the same on every node of a cluster: whichever node
    // wins the lease next sweeps what a dead holder left on its host.
    instanceId: lane,
    logger,
    vaultAccess: deps.vaultAccess,
    restartReason: RESTART_REASON,
    settingsEvents: ctx.settingsEvents,
    ...(deps.localRepos === undefined ? {} : { localRepos: deps.localRepos }),
  });
  const scheduler = createScheduler({
    targets: () => new Map([[lane, runtime]]),
    ticker: createCronTicker(everySeconds(settings.tickSeconds)),
    logger,
  });
  const listener = settings.webhookListen
    ? await startWebhookListener({
        ...settings.webhookListen,
        store,
        poller: scheduler,
        logger,
        settingsEvents: ctx.settingsEvents,
      })
    : undefined;
  try {
    // Cancel what a killed process left and sweep its containers before the first poll.
    await runtime.start();
  } catch (e) {
    await listener?.close();
    throw e;
  }
  scheduler.start();
  logger.info(
    {
      pid: process.pid,
      workDir: dirs.root,
      webhooks: listener?.address ?? 'off',
      tickSeconds: settings.tickSeconds,
    },
    'background work started',
  );
  return { lane, runtime, scheduler, listener };
}

/** Stop a running mount: abort its task, stop polling; true when it stopped within the budget. */
async function stopRunning(
  r: Running,
  reason: string,
  budgetMs: number,
  logger: BackgroundContext['logger'],
): Promise<boolean> {
  const aborted = r.runtime.abort(reason);
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), budgetMs);
  });
  const quiet = await Promise.race([
    Promise.allSettled([r.listener?.close(), r.scheduler.stop()]).then(() => true),
    budget,
  ]);
  clearTimeout(timer);
  logger.info({ aborted, reason, quiet }, 'background work stopped');
  return quiet;
}

/** The factory main.ts hands to the runtime. */
export function createPluginBackground(deps: PluginBackgroundDeps): BackgroundFactory {
  return (ctx: BackgroundContext): BackgroundWork => {
    let running: Running | undefined;
    let guard: MountGuard | undefined;
    const budget = deps.stopBudgetMs ?? 1_500;
    // The API passes the mount path it saw; this process has one mount, known here as the lane.
    const control: PipelineControl = {
      requestPoll: (_mount, reason) => {
        if (!running) throw notHere();
        running.scheduler.requestPoll(running.lane, reason);
      },
      nextPollAt: () => (running ? running.scheduler.nextPollAt(running.lane) : undefined),
      unrecordedFailure: () => running?.runtime.unrecordedFailure(),
      pollState: () => running?.runtime.pollState(),
      cancelTask: async (_mount, uuid) => {
        if (!running) throw notHere();
        return running.runtime.cancelTask(uuid);
      },
    };
    let pipeline: PipelineControl | undefined;
    return {
      // Absent with the pipeline off: the backend then answers a clear 400.
      get pipeline() {
        return pipeline;
      },
      async start() {
        const settings = readPluginSettings(deps.argv, deps.env, ctx.config);
        if (settings.pipeline === 'off') {
          ctx.logger.info({ pid: process.pid }, 'pipeline off: serving the API only');
          return;
        }
        pipeline = control;
        guard = createMountGuard({
          store: ctx.store,
          holder: holderId(hostId()),
          ...(deps.leaseTtlMs === undefined ? {} : { ttlMs: deps.leaseTtlMs }),
          logger: ctx.logger,
          work: {
            async begin() {
              const r = await startRunning(ctx, deps, settings);
              running = r;
              // A configured mount polls at once: the previous holder (a killed node, a crashed
              // process) may have left a commit half-deployed or missed a push. (An unconfigured
              // one must not: the scheduler would count it as polled and wait a whole period.)
              if ((await r.runtime.pollPeriodSeconds()) !== undefined) {
                r.scheduler.requestPoll(r.lane, 'lease won: catching up');
              }
            },
            async end(reason) {
              const r = running;
              running = undefined;
              return r ? stopRunning(r, reason, budget, ctx.logger) : true;
            },
          },
        });
        await guard.start();
      },
      periodic() {
        // The rollback tick (once a minute) backs up the scheduler's own ticker; never awaited.
        if (running) void running.scheduler.tick();
      },
      async stop() {
        pipeline = undefined;
        await guard?.stop(STOP_REASON);
      },
    };
  };
}
