/**
 * The task manager of one mount (docs/compat.md, "Tasks"): creates tasks, one at a time, moves them through
 * QUEUED → RUNNING → SUCCEEDED/FAILED/CANCELED, keeps their logs, cancels them, trims the history
 * and cancels what a previous process left behind. It does not decide outcomes: the pipeline's
 * summariser hands it the final status through `finish`.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors.js';
import { mountSettings } from '../config/mount-settings.js';
import type { TaskSettings } from '../config/settings-schemas.js';
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import type { Logger } from '../logging.js';
import { updateWithCas, type Store } from '../storage/store.js';
import { createTaskLogWriter, type StoredTaskLog, type TaskLogWriter } from './task-log.js';
import {
  byCreation,
  isCompleted,
  listTasks,
  readTask,
  type StoredTask,
  type TaskReasonCode,
  type TaskStatus,
} from './task-record.js';

/** Options of a task manager; `store` is the mount's scoped store. */
export interface TaskManagerOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly newId?: () => string;
  readonly logLimitChars?: number;
  readonly logFlushMs?: number;
}

/** What a run gets from its task: the cancel signal and a sink for its output. */
export interface RunningTask {
  readonly uuid: string;
  /** Aborted (with an AppError TASK_CANCELED as reason) when an operator cancels the task. */
  readonly signal: AbortSignal;
  /** Append output to the task log (batched, bounded). */
  log(chunk: string): void;
  /**
   * Show the commit the run works on as soon as it is known (a running task that says which
   * commit it deploys). Only the `commit` field changes: the status stays the summariser's.
   */
  recordCommit(commit: string): Promise<void>;
}

/** The final state the summariser decided. */
export interface TaskOutcome {
  readonly status: Extract<TaskStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELED'>;
  readonly reason: string;
  readonly reasonCode: TaskReasonCode;
  readonly commit: string;
}

/** The task manager of one mount. */
export interface TaskManager {
  /**
   * Cancel tasks left QUEUED or RUNNING by a previous process; returns how many. `reason` says
   * which process restarted (default "service restarted"; the plugin says "plugin restarted").
   */
  recover(reason?: string): Promise<number>;
  /** Queue a task, or return undefined when one is already queued or running. */
  enqueue(trigger: string): Promise<StoredTask | undefined>;
  /** Mark a queued task RUNNING; throws TASK_CANCELED when it was canceled while queued. */
  start(uuid: string): Promise<RunningTask>;
  /** Record the final state, flush the log and trim the history. */
  finish(uuid: string, outcome: TaskOutcome): Promise<StoredTask>;
  /** Cancel a queued or running task (a finished one is left as it is); NOT_FOUND when missing. */
  cancel(uuid: string): Promise<StoredTask>;
  /**
   * Abort every running task of this process with TASK_CANCELED and `reason` (the process is
   * stopping: unmount, reload, seal); their runs kill their containers and finish as CANCELED.
   * Returns how many were running.
   */
  abortRunning(reason: string): number;
  /** The mount's task settings (defaults when never written). */
  configuration(): Promise<TaskSettings>;
}

interface Active {
  readonly controller: AbortController;
  readonly log: TaskLogWriter;
}

/** Create the task manager of one mount. */
export function createTaskManager(opts: TaskManagerOptions): TaskManager {
  const { store, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const newId = opts.newId ?? randomUUID;
  const active = new Map<string, Active>();
  // Task settings belong to the settings owner; the manager only reads them.
  const settings = mountSettings(store, { logger });

  const update = async (uuid: string, fn: (t: StoredTask) => StoredTask): Promise<StoredTask> =>
    updateWithCas<StoredTask>(store, StorageKeys.task(uuid), (current) => {
      if (!current) throw new AppError('NOT_FOUND', `task ${uuid} does not exist`);
      return fn(current);
    });

  const pruneHistory = async (): Promise<void> => {
    const { task_history_limit: limit } = await settings.effectiveTaskSettings();
    const completed = (await listTasks(store))
      .filter((t) => isCompleted(t.status))
      .sort(byCreation);
    for (const t of completed.slice(0, Math.max(0, completed.length - limit))) {
      await store.delete(StorageKeys.task(t.uuid));
      await store.delete(StorageKeys.taskLog(t.uuid));
      logger.debug({ task: t.uuid }, 'task removed from history');
    }
  };

  return {
    async recover(reason = 'service restarted') {
      let count = 0;
      // A run whose commit was recorded before the kill (between the record step and the
      // task's final write) did succeed: the task says so, with its commit.
      const last = (await store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit))?.value;
      for (const t of await listTasks(store)) {
        if (isCompleted(t.status) || active.has(t.uuid)) continue;
        const recorded =
          last !== undefined &&
          t.status === 'RUNNING' &&
          last.at >= t.created &&
          (t.commit === '' || t.commit === last.commit);
        await update(t.uuid, (c) =>
          recorded
            ? {
                ...c,
                status: 'SUCCEEDED',
                reason: `commit ${last.commit} processed (recorded before it stopped; ${reason})`,
                reason_code: 'DEPLOYED',
                commit: last.commit,
                modified: now().toISOString(),
              }
            : {
                ...c,
                status: 'CANCELED',
                reason,
                reason_code: 'SERVICE_RESTARTED',
                modified: now().toISOString(),
              },
        );
        count++;
      }
      if (count > 0) logger.info({ count }, 'tasks of a previous process canceled');
      return count;
    },

    async enqueue(trigger) {
      const tasks = await listTasks(store);
      if (tasks.some((t) => !isCompleted(t.status))) return undefined;
      const at = now().toISOString();
      const task: StoredTask = {
        uuid: newId(),
        status: 'QUEUED',
        reason: '',
        reason_code: '',
        created: at,
        modified: at,
        commit: '',
        trigger,
        seq: tasks.reduce((m, t) => Math.max(m, t.seq), 0) + 1,
      };
      await store.put(StorageKeys.task(task.uuid), task, { cas: 0 });
      const empty: StoredTaskLog = { text: '', omitted: 0 };
      // An empty log needs no fsync: losing it loses nothing (the task record is durable).
      await store.put(StorageKeys.taskLog(task.uuid), empty, { durable: false });
      logger.info({ task: task.uuid, trigger }, 'task queued');
      return task;
    },

    async start(uuid) {
      await update(uuid, (t) => {
        if (t.status !== 'QUEUED') {
          throw new AppError('TASK_CANCELED', `task ${uuid} is ${t.status}, not QUEUED`);
        }
        return { ...t, status: 'RUNNING', modified: now().toISOString() };
      });
      const controller = new AbortController();
      const logOpts = {
        store,
        uuid,
        logger,
        ...(opts.logLimitChars === undefined ? {} : { limitChars: opts.logLimitChars }),
        ...(opts.logFlushMs === undefined ? {} : { flushMs: opts.logFlushMs }),
      };
      const log = createTaskLogWriter(logOpts);
      active.set(uuid, { controller, log });
      const recordCommit = async (commit: string): Promise<void> => {
        await update(uuid, (t) =>
          t.status === 'RUNNING' && t.commit !== commit
            ? { ...t, commit, modified: now().toISOString() }
            : t,
        );
      };
      return { uuid, signal: controller.signal, log: (chunk) => log.append(chunk), recordCommit };
    },

    async finish(uuid, outcome) {
      const a = active.get(uuid);
      try {
        await a?.log.flush();
        const task = await update(uuid, (t) => ({
          ...t,
          status: outcome.status,
          reason: outcome.reason,
          reason_code: outcome.reasonCode,
          commit: outcome.commit,
          modified: now().toISOString(),
        }));
        logger.info(
          { task: uuid, status: outcome.status, code: outcome.reasonCode },
          'task finished',
        );
        return task;
      } finally {
        active.delete(uuid);
        await pruneHistory();
      }
    },

    async cancel(uuid) {
      const task = await readTask(store, uuid);
      if (!task) throw new AppError('NOT_FOUND', `task ${uuid} does not exist`);
      const a = active.get(uuid);
      if (a) {
        logger.info({ task: uuid }, 'task cancel requested');
        a.controller.abort(new AppError('TASK_CANCELED', 'canceled by an operator'));
        return task;
      }
      if (task.status !== 'QUEUED') return task;
      return update(uuid, (t) =>
        t.status === 'QUEUED'
          ? {
              ...t,
              status: 'CANCELED',
              reason: 'canceled by an operator',
              reason_code: 'TASK_CANCELED',
              modified: now().toISOString(),
            }
          : t,
      );
    },

    abortRunning(reason) {
      for (const [uuid, a] of active) {
        logger.info({ task: uuid, reason }, 'task aborted: the process is stopping');
        a.controller.abort(new AppError('TASK_CANCELED', reason));
      }
      return active.size;
    },

    configuration: () => settings.effectiveTaskSettings(),
  };
}
