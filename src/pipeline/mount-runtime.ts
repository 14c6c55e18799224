/**
 * Per-mount wiring: the mirror, the task manager, the pipeline and the summariser behind one
 * `poll(reason)`, which is what the scheduler calls. src/service.ts builds one runtime per mount
 * from the concrete adapters; tests build it from fakes of the same interfaces.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRepoPolicy } from '../config/local-repos.js';
import { mountSettings, type MountSettings } from '../config/mount-settings.js';
import type { SettingsEvents } from '../config/settings-events.js';
import type { Configuration } from '../config/settings-schemas.js';
import { mountScope } from '../config/stored.js';
import type {
  GitAuth,
  GitMirror,
  GitMirrorFactory,
  GitRemoteSpec,
  RemoteRefs,
} from '../git/types.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { SignatureVerifier } from '../pgp/types.js';
import type { ContainerRunner } from '../runner/types.js';
import { PERIODIC, type PollTarget } from '../scheduler/scheduler.js';
import { scopedStore, type Store } from '../storage/store.js';
import { createTaskManager, type TaskManager } from '../tasks/task-manager.js';
import type { StoredTask } from '../tasks/task-record.js';
import type { VaultAccessService } from '../vault/types.js';
import { runPipeline, type StartedTask } from './pipeline.js';
import { runLabels } from './steps-run.js';
import { pipelineSignaturePolicy } from './signature-policy.js';
import {
  createPollStateMemory,
  type FlushTimer,
  type PollResult,
  type StoredPollState,
} from './poll-state.js';
import type { PipelineDeps, SignaturePolicy } from './run-context.js';
import { summarise, summariseUnrecorded, type UnrecordedFailure } from './summarise.js';
import { toAppError } from '../errors.js';

/** Everything a mount runtime is built from. */
export interface MountRuntimeOptions {
  readonly mount: string;
  /** The service's store; the runtime scopes it to `mounts/<mount>/`. */
  readonly store: Store;
  readonly mirrors: GitMirrorFactory;
  /** Mirrors live below `<mirrorRoot>/<mount>/`. */
  readonly mirrorRoot: string;
  readonly verifier: SignatureVerifier;
  /** Default: `pipelineSignaturePolicy` of signature-policy.ts. */
  readonly checkSignatures?: SignaturePolicy;
  readonly vaultAccess: VaultAccessService;
  readonly runner: ContainerRunner;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Per-run temp dirs; default the OS temp dir. */
  readonly tempRoot?: string;
  /** Docker network mode of the run's containers; default `host` (reaches a Vault on loopback). */
  readonly networkMode?: string;
  /**
   * Identity of this service instance, stable across restarts (kept in its data dir); its
   * containers carry it, and the start-up sweep removes only its own. Default 'default'.
   */
  readonly instanceId?: string;
  readonly logLimitChars?: number;
  readonly logFlushMs?: number;
  /** Where the runtime's own settings writes (vault access rotation) are announced. */
  readonly settingsEvents?: SettingsEvents;
  /**
   * Every write of the mount's settings goes through this process and is announced on
   * `settingsEvents` (the service on its file store: the data dir belongs to one service). The
   * settings cache then keeps a value until a write drops it, with no age limit. Leave it unset
   * where another process may write (Vault KV replicas, OpenBao nodes).
   */
  readonly soleWriter?: boolean;
  /** Reason written on tasks a previous process left (default "service restarted"). */
  readonly restartReason?: string;
  /**
   * The operator's approved local repository roots, checked again before a mirror is opened (a
   * URL stored before the roots changed, or by another replica); absent: not checked here.
   */
  readonly localRepos?: LocalRepoPolicy;
  /** How long an unchanged poll state may stay in memory (default POLL_STATE_FLUSH_MS). */
  readonly pollStateFlushMs?: number;
  /** The timer of that write-behind (tests inject one). */
  readonly pollStateTimer?: FlushTimer;
}

/** One mount's runtime: a scheduler target plus the task operations the API needs. */
export interface MountRuntime extends PollTarget {
  /** Run one poll to its end; says how it ended (`skipped`: not configured, or a task waits). */
  poll(reason: string): Promise<PollResult>;
  readonly mount: string;
  /** The mount's scoped store. */
  readonly store: Store;
  readonly tasks: TaskManager;
  /** Call once at start-up: cancels tasks a previous process left and sweeps its containers. */
  start(): Promise<void>;
  cancelTask(uuid: string): Promise<StoredTask>;
  /** Abort the running task (the process is stopping); its run kills its container. */
  abort(reason: string): number;
  /** The last poll, when it failed before its outcome could be stored (cleared by the next). */
  unrecordedFailure(): UnrecordedFailure | undefined;
  /**
   * The poll state as this runtime knows it (possibly newer than the stored one by the
   * write-behind window), or undefined when it has not polled or read it since it started.
   */
  pollState(): StoredPollState | undefined;
  /**
   * The scheduler stopped polling this mount (the process stops, the plugin steps down): write
   * the poll state kept in memory now, and every later one at once, until the next `start()`.
   */
  stop(): Promise<void>;
}

async function gitAuth(settings: MountSettings): Promise<GitAuth> {
  const ssh = await settings.gitSshKey.get();
  if (ssh) return { kind: 'ssh', privateKey: ssh.private_key, knownHosts: ssh.known_hosts };
  const basic = await settings.gitCredential.get();
  if (basic) return { kind: 'basic', username: basic.username, password: basic.password };
  return { kind: 'none' };
}

/**
 * A mirror opened on first use: the pipeline's first step opens it, so a mirror that cannot be
 * opened fails that step (and the poll gets a task saying why) like any other git failure.
 * `open(reuse)` may hand back the mirror an earlier poll opened (`reuse` true); when the first
 * call on such a mirror fails and its directory is gone, the mirror is opened afresh (which
 * rebuilds the directory) and the call made once more — so a mirror removed between two polls
 * costs no failed poll. Any other failure (the remote's) is the poll's, as with a fresh mirror.
 */
interface OpenedMirror {
  readonly mirror: GitMirror;
  /** Opened by an earlier poll. */
  readonly reused: boolean;
  readonly dir: string;
}

class LazyMirror implements GitMirror {
  private opened: Promise<OpenedMirror> | undefined;
  private mirror: GitMirror | undefined;
  private settled = false;

  constructor(private readonly open: (reuse: boolean) => Promise<OpenedMirror>) {}

  private async call<T>(fn: (m: GitMirror) => Promise<T>): Promise<T> {
    this.opened ??= this.open(true);
    const { mirror, reused, dir } = await this.opened;
    this.mirror = mirror;
    if (this.settled || !reused) return fn(mirror);
    this.settled = true;
    try {
      return await fn(mirror);
    } catch (e) {
      if (existsSync(join(dir, 'HEAD'))) throw e;
      this.opened = this.open(false);
      const fresh = (await this.opened).mirror;
      this.mirror = fresh;
      return fn(fresh);
    }
  }

  lsRemote() {
    return this.call((m) => m.lsRemote());
  }
  fetch(refs: RemoteRefs) {
    return this.call((m) => m.fetch(refs));
  }
  localRefs() {
    return this.call((m) => m.localRefs());
  }
  isAncestor(ancestor: string, descendant: string) {
    return this.call((m) => m.isAncestor(ancestor, descendant));
  }
  readCommit(commit: string) {
    return this.call((m) => m.readCommit(commit));
  }
  readSignatureNotes(commit: string, source: Parameters<GitMirror['readSignatureNotes']>[1]) {
    return this.call((m) => m.readSignatureNotes(commit, source));
  }
  exportTree(commit: string, dir: string) {
    return this.call((m) => m.exportTree(commit, dir));
  }
  get counters() {
    return this.mirror?.counters ?? { lsRemote: 0, fetch: 0 };
  }
}

/** Build the runtime of one mount. */
export function createMountRuntime(opts: MountRuntimeOptions): MountRuntime {
  const { mount } = opts;
  const store = scopedStore(opts.store, mountScope(mount));
  const logger = opts.logger.child({ mount });
  const now = opts.now ?? (() => new Date());
  // Periodic polls, and the scheduler asking for the poll period at every tick, read settings
  // through the owner's cache, kept at most one poll period (cacheWindowMs, set from each
  // configuration read). A write through this process drops a cached value at once (the
  // settings hub announces it), so a period or URL changed through the API is acted on at the
  // next tick. A write by another replica or OpenBao node is not announced here; a cached value
  // is never used once it is one poll period old, so a periodic poll acts at worst on what the
  // poll before it read — stale for one poll at most — and every other poll (requested through
  // the API, a webhook, a won lease, a follow-up) drops the cache first, so "configure, then
  // poll" on any replica acts on what was written. A period of 0 (every tick) caches nothing,
  // nor does a runtime without a hub. A sole writer (opts.soleWriter) has no unannounced writes
  // to wait for: its cache has no age limit.
  let cacheWindowMs = 0;
  const settings = mountSettings(store, {
    mount,
    logger,
    ...(opts.settingsEvents === undefined ? {} : { events: opts.settingsEvents }),
    cacheMaxAgeMs: opts.soleWriter === true ? () => Infinity : () => cacheWindowMs,
    nowMs: () => now().getTime(),
  });
  const readConfiguration = async (): Promise<Configuration | undefined> => {
    const config = await settings.configuration.get();
    cacheWindowMs = (config?.git_poll_period ?? 0) * 1000;
    return config;
  };
  const pollMemory = createPollStateMemory({
    store,
    logger,
    ...(opts.pollStateFlushMs === undefined ? {} : { flushMs: opts.pollStateFlushMs }),
    ...(opts.pollStateTimer === undefined ? {} : { timer: opts.pollStateTimer }),
  });
  const tasks = createTaskManager({
    store,
    logger,
    now,
    ...(opts.newId === undefined ? {} : { newId: opts.newId }),
    ...(opts.logLimitChars === undefined ? {} : { logLimitChars: opts.logLimitChars }),
    ...(opts.logFlushMs === undefined ? {} : { logFlushMs: opts.logFlushMs }),
  });
  /**
   * The mirror of the last poll that ended well, with what it was opened for: the next poll with
   * the same directory and remote (URL, branch, credentials) reuses it instead of opening it
   * again (an open checks the directory and costs a round trip to the git host: measured in
   * BENCHMARKS.md rows 2 and 12). Dropped when a poll fails and when the runtime starts. A new
   * URL or branch gets a new mirror directory.
   */
  let kept: { key: string; mirror: GitMirror } | undefined;
  const openMirror = async (config: Configuration, reuse: boolean): Promise<OpenedMirror> => {
    const local = await opts.localRepos?.check(config.git_repo_url);
    if (local !== undefined) {
      throw new AppError('NOT_CONFIGURED', `git_repo_url: ${local}`, {
        details: { field: 'git_repo_url' },
      });
    }
    const spec: GitRemoteSpec = {
      url: config.git_repo_url,
      branch: config.git_branch_name,
      auth: await gitAuth(settings),
    };
    const id = createHash('sha256')
      .update(`${spec.url}\n${spec.branch}`)
      .digest('hex')
      .slice(0, 16);
    const dir = join(opts.mirrorRoot, mount, id);
    const key = JSON.stringify([dir, spec]);
    if (reuse && kept?.key === key) return { mirror: kept.mirror, reused: true, dir };
    kept = undefined;
    const mirror = await opts.mirrors.open(dir, spec);
    kept = { key, mirror };
    return { mirror, reused: false, dir };
  };

  const deps = (mirror: GitMirror): PipelineDeps => ({
    mount,
    store,
    settings,
    mirror,
    verifier: opts.verifier,
    checkSignatures: opts.checkSignatures ?? pipelineSignaturePolicy,
    vaultAccess: opts.vaultAccess,
    runner: opts.runner,
    logger,
    now,
    tempRoot: opts.tempRoot ?? tmpdir(),
    networkMode: opts.networkMode ?? 'host',
    instanceId: opts.instanceId ?? 'default',
  });

  /** Queue and start the poll's task, once the pipeline needs one. */
  const startTask = async (trigger: string): Promise<StartedTask | undefined> => {
    const task = await tasks.enqueue(trigger);
    if (!task) {
      logger.info({ trigger }, 'poll adds no task: one is queued or running');
      return undefined;
    }
    const running = await tasks.start(task.uuid);
    const { task_timeout: timeoutSeconds } = await tasks.configuration();
    return { task: running, timeoutSeconds };
  };

  let unrecorded: UnrecordedFailure | undefined;
  const poll = async (trigger: string): Promise<PollResult> => {
    if (trigger !== PERIODIC) settings.dropCache();
    const config = await readConfiguration();
    if (!config) return 'skipped';
    try {
      const run = await runPipeline(deps(new LazyMirror((reuse) => openMirror(config, reuse))), {
        config,
        startTask: () => startTask(trigger),
      });
      if (run.kind === 'skipped') return 'skipped';
      if (run.outcome.kind === 'failed') kept = undefined;
      const result = await summarise({
        outcome: run.outcome,
        ...(run.taskId === undefined ? {} : { taskId: run.taskId }),
        tasks,
        store,
        logger,
        now,
        memory: pollMemory,
      });
      unrecorded = undefined;
      return result;
    } catch (e) {
      kept = undefined;
      // The task could not be queued, started or finished (a full disk, a failing store).
      logger.error({ trigger, err: toAppError(e).reason }, 'poll could not record its task');
      unrecorded = await summariseUnrecorded({ store, logger, now, memory: pollMemory }, e);
      return 'failed';
    }
  };

  return {
    mount,
    store,
    tasks,
    async start() {
      // Started at start-up or on winning the mount's lease: another replica may have written.
      settings.dropCache();
      pollMemory.forget();
      kept = undefined;
      await tasks.recover(opts.restartReason);
      try {
        const removed = await opts.runner.sweep(runLabels(opts.instanceId ?? 'default', mount));
        if (removed > 0) logger.info({ removed }, 'leftover containers removed');
      } catch (e) {
        logger.warn({ err: String(e) }, 'leftover containers could not be swept');
      }
    },
    cancelTask: (uuid) => tasks.cancel(uuid),
    abort: (reason) => tasks.abortRunning(reason),
    unrecordedFailure: () => unrecorded,
    pollState: () => pollMemory.current(),
    stop: () => pollMemory.stop(),
    // Asked at every tick (every mount, every few seconds): answered by the settings cache.
    async pollPeriodSeconds() {
      return (await readConfiguration())?.git_poll_period;
    },
    async lastPollAt() {
      const at = (await pollMemory.previous())?.last_poll_at;
      return at === undefined ? undefined : new Date(at);
    },
    poll,
  };
}
