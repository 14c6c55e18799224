/**
 * Per-mount wiring: the mirror, the task manager, the pipeline and the summariser behind one
 * `poll(reason)`, which is what the scheduler calls. main.ts builds one runtime per mount from
 * the concrete adapters; tests build it from fakes of the same interfaces.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  mountScope,
  StorageKeys,
  type StoredConfiguration,
  type StoredGitCredential,
  type StoredGitSshKey,
} from '../config/stored.js';
import { toAppError } from '../errors.js';
import type { GitAuth, GitMirror, GitMirrorFactory, GitRemoteSpec } from '../git/types.js';
import type { Logger } from '../logging.js';
import type { SignatureVerifier } from '../pgp/types.js';
import type { ContainerRunner } from '../runner/types.js';
import type { PollTarget } from '../scheduler/scheduler.js';
import { scopedStore, type Store } from '../storage/store.js';
import { createTaskManager, type TaskManager } from '../tasks/task-manager.js';
import type { StoredTask } from '../tasks/task-record.js';
import type { VaultAccessService } from '../vault/types.js';
import { runPipeline } from './pipeline.js';
import { runLabels } from './steps-run.js';
import { pipelineSignaturePolicy } from './signature-policy.js';
import type { RemoteProbe, RunOutcome, SignaturePolicy } from './run-context.js';
import { lastCommitOf } from './steps-git.js';
import { readPollState, summarise, taskOutcomeOf, writePollState } from './summarise.js';

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
  /** Reason written on tasks a previous process left (default "service restarted"). */
  readonly restartReason?: string;
}

/** One mount's runtime: a scheduler target plus the task operations the API needs. */
export interface MountRuntime extends PollTarget {
  readonly mount: string;
  /** The mount's scoped store. */
  readonly store: Store;
  readonly tasks: TaskManager;
  /** Call once at start-up: cancels tasks a previous process left and sweeps its containers. */
  start(): Promise<void>;
  cancelTask(uuid: string): Promise<StoredTask>;
  /** Abort the running task (the process is stopping); its run kills its container. */
  abort(reason: string): number;
}

async function gitAuth(store: Store): Promise<GitAuth> {
  const ssh = (await store.get<StoredGitSshKey>(StorageKeys.gitSshKey))?.value;
  if (ssh) return { kind: 'ssh', privateKey: ssh.private_key, knownHosts: ssh.known_hosts };
  const basic = (await store.get<StoredGitCredential>(StorageKeys.gitCredential))?.value;
  if (basic) return { kind: 'basic', username: basic.username, password: basic.password };
  return { kind: 'none' };
}

/** Build the runtime of one mount. */
export function createMountRuntime(opts: MountRuntimeOptions): MountRuntime {
  const { mount } = opts;
  const store = scopedStore(opts.store, mountScope(mount));
  const logger = opts.logger.child({ mount });
  const now = opts.now ?? (() => new Date());
  const tasks = createTaskManager({
    store,
    logger,
    now,
    ...(opts.newId === undefined ? {} : { newId: opts.newId }),
    ...(opts.logLimitChars === undefined ? {} : { logLimitChars: opts.logLimitChars }),
    ...(opts.logFlushMs === undefined ? {} : { logFlushMs: opts.logFlushMs }),
  });
  // A new URL or branch gets a new mirror directory.
  const openMirror = async (config: StoredConfiguration): Promise<GitMirror> => {
    const spec: GitRemoteSpec = {
      url: config.git_repo_url,
      branch: config.git_branch_name,
      auth: await gitAuth(store),
    };
    const id = createHash('sha256')
      .update(`${spec.url}\n${spec.branch}`)
      .digest('hex')
      .slice(0, 16);
    const dir = join(opts.mirrorRoot, mount, id);
    return opts.mirrors.open(dir, spec);
  };

  /**
   * The ls-remote of a poll, made before any task exists. An up-to-date tip (most polls) is
   * recorded in the poll state alone, one non-durable write, and no task: the task history keeps
   * the polls that did something. Otherwise the answer (or its error) goes to the task's run.
   * True when the poll is done.
   */
  const probeUpToDate = async (
    config: StoredConfiguration,
    mirror: GitMirror,
  ): Promise<RemoteProbe | true> => {
    let refs;
    try {
      refs = await mirror.lsRemote();
    } catch (error) {
      return { error };
    }
    const last = (await lastCommitOf(store, config)).commit;
    if (refs.branch === undefined || refs.branch !== last) return { refs };
    const outcome: RunOutcome = {
      kind: 'up-to-date',
      state: { refs, tip: refs.branch, last, lastVersion: 0, signers: [], env: {} },
    };
    const { reason, commit } = taskOutcomeOf(outcome);
    await writePollState(
      { outcome, store, logger, now },
      { uuid: '', status: 'SUCCEEDED', reason, commit },
    );
    return true;
  };

  const poll = async (trigger: string): Promise<void> => {
    const config = (await store.get<StoredConfiguration>(StorageKeys.configuration))?.value;
    if (!config) return;
    let mirror: GitMirror | undefined;
    let probe: RemoteProbe | undefined;
    try {
      mirror = await openMirror(config);
    } catch {
      // The task's run opens it again and reports why it cannot.
    }
    if (mirror !== undefined) {
      const probed = await probeUpToDate(config, mirror);
      if (probed === true) return;
      probe = probed;
    }
    const task = await tasks.enqueue(trigger);
    if (!task) {
      logger.info({ trigger }, 'poll adds no task: one is queued or running');
      return;
    }
    const running = await tasks.start(task.uuid);
    const { task_timeout: timeoutSeconds } = await tasks.configuration();
    let outcome: RunOutcome;
    try {
      mirror ??= await openMirror(config);
      outcome = await runPipeline(
        {
          mount,
          store,
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
        },
        { config, task: running, timeoutSeconds, ...(probe === undefined ? {} : { probe }) },
      );
    } catch (e) {
      outcome = {
        kind: 'failed',
        error: toAppError(e),
        state: { lastVersion: 0, signers: [], env: {} },
      };
    }
    await summarise({ outcome, taskId: task.uuid, tasks, store, logger, now });
  };

  return {
    mount,
    store,
    tasks,
    async start() {
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
    async pollPeriodSeconds() {
      return (await store.get<StoredConfiguration>(StorageKeys.configuration))?.value
        .git_poll_period;
    },
    async lastPollAt() {
      const at = (await readPollState(store))?.last_poll_at;
      return at === undefined ? undefined : new Date(at);
    },
    poll,
  };
}
