/**
 * The plugin's background work: the mount's runtime (pipeline, signature gate, wrapped Vault
 * requests, Docker runs) composed exactly as the service composes it (mount-composition.ts), its
 * scheduler, and the webhook listener. OpenBao starts it in Initialize and stops it in Cleanup
 * (background.ts says why never earlier). Storage is the mount's brokered storage; git mirrors
 * and run dirs live below the plugin's local data dir.
 *
 * Stopping must be prompt: after Cleanup the host sends Shutdown and kills the process 2 s
 * later, and writes made after Cleanup may land after an unmount cleared the mount's storage. So
 * stop aborts the running task at once (its run kills and removes its container and records
 * CANCELED; the commit stays unrecorded and runs again later) and waits a bounded time.
 */
import { join } from 'node:path';
import type { LocalRepoPolicy } from '../config/local-repos.js';
import { composeMount, createSharedAdapters } from '../mount-composition.js';
import type { PipelineControl } from '../pipeline/control.js';
import type { MountRuntime } from '../pipeline/mount-runtime.js';
import { createCronTicker, everySeconds } from '../scheduler/cron-ticker.js';
import { createScheduler, type Scheduler } from '../scheduler/scheduler.js';
import type { VaultAccessService } from '../vault/types.js';
import type { BackgroundContext, BackgroundFactory, BackgroundWork } from './background.js';
import { wholeStoreView } from './mount-store.js';
import { loadOrCreateMountId, prepareWorkDirs } from './mount-identity.js';
import { readPluginSettings } from './plugin-settings.js';
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
}

/** Tasks that Cleanup aborts end CANCELED with this reason. */
export const STOP_REASON = 'plugin stopped (unmount, reload or seal)';
/** Tasks a killed plugin process left behind end CANCELED with this reason. */
export const RESTART_REASON = 'plugin restarted';

interface Running {
  readonly lane: string;
  readonly runtime: MountRuntime;
  readonly scheduler: Scheduler;
  readonly listener: WebhookListener | undefined;
}

async function startRunning(
  ctx: BackgroundContext,
  deps: PluginBackgroundDeps,
): Promise<Running | undefined> {
  const settings = readPluginSettings(deps.argv, deps.env, ctx.config);
  if (settings.pipeline === 'off') {
    ctx.logger.info({ pid: process.pid }, 'pipeline off: serving the API only');
    return undefined;
  }
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
    instanceId: dirs.instanceId,
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

/** The factory main.ts hands to the runtime. */
export function createPluginBackground(deps: PluginBackgroundDeps): BackgroundFactory {
  return (ctx: BackgroundContext): BackgroundWork => {
    let running: Running | undefined;
    // The API passes the mount path it saw; this process has one mount, known here as the lane.
    const control = (r: Running): PipelineControl => ({
      requestPoll: (_mount, reason) => r.scheduler.requestPoll(r.lane, reason),
      nextPollAt: () => r.scheduler.nextPollAt(r.lane),
      unrecordedFailure: () => r.runtime.unrecordedFailure(),
      cancelTask: async (_mount, uuid) => r.runtime.cancelTask(uuid),
    });
    let pipeline: PipelineControl | undefined;
    return {
      // Absent until started (or with the pipeline off): the backend then answers a clear 400.
      get pipeline() {
        return pipeline;
      },
      async start() {
        running = await startRunning(ctx, deps);
        pipeline = running ? control(running) : undefined;
      },
      periodic() {
        // The rollback tick (once a minute) backs up the scheduler's own ticker; never awaited.
        if (running) void running.scheduler.tick();
      },
      async stop() {
        const r = running;
        running = undefined;
        pipeline = undefined;
        if (!r) return;
        const aborted = r.runtime.abort(STOP_REASON);
        const budget = new Promise<void>((resolve) =>
          setTimeout(resolve, deps.stopBudgetMs ?? 1_500).unref(),
        );
        await Promise.race([Promise.allSettled([r.listener?.close(), r.scheduler.stop()]), budget]);
        ctx.logger.info({ aborted }, 'background work stopped');
      },
    };
  };
}
