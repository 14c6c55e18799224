/**
 * Task records as kept in storage, and the read-only queries over them. The API paths read tasks
 * through these functions straight from the mount's store; only the task manager writes them.
 */
import type { ErrorCode } from '../errors.js';
import { StorageKeys } from '../config/stored.js';
import type { Store } from '../storage/store.js';

/** The life of a task, as the original plugin named the states. */
export type TaskStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

/** Statuses after which a task never changes again. */
export const COMPLETED_STATUSES: readonly TaskStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];

/**
 * Why a task ended as it did, as a stable code a script can test: an AppError code for a failure,
 * or one of the success/lifecycle codes. Empty while the task is queued or running.
 */
export type TaskReasonCode = ErrorCode | 'DEPLOYED' | 'UP_TO_DATE' | 'SERVICE_RESTARTED' | '';

/** The value at `task/<uuid>`. Times are ISO strings; `commit` is '' until the tip is known. */
export interface StoredTask {
  readonly uuid: string;
  readonly status: TaskStatus;
  readonly reason: string;
  readonly reason_code: TaskReasonCode;
  readonly created: string;
  readonly modified: string;
  readonly commit: string;
  /** What asked for the poll (periodic, api, webhook, …). */
  readonly trigger: string;
  /** Creation order within the mount (ties of `created` happen within one millisecond). */
  readonly seq: number;
}

/** True when the task has finished (it will never run again). */
export function isCompleted(status: TaskStatus): boolean {
  return COMPLETED_STATUSES.includes(status);
}

/** One task, or undefined. */
export async function readTask(store: Store, uuid: string): Promise<StoredTask | undefined> {
  return (await store.get<StoredTask>(StorageKeys.task(uuid)))?.value;
}

const LIST_ORDER: Readonly<Record<TaskStatus, number>> = {
  SUCCEEDED: 0,
  FAILED: 0,
  CANCELED: 0,
  RUNNING: 1,
  QUEUED: 2,
};

/** Creation order: by `seq`, then creation time, then id (stable across calls). */
export function byCreation(a: StoredTask, b: StoredTask): number {
  return a.seq - b.seq || a.created.localeCompare(b.created) || a.uuid.localeCompare(b.uuid);
}

/** All tasks of the mount: completed first, then running, then queued; oldest first in each. */
export async function listTasks(store: Store): Promise<StoredTask[]> {
  const names = await store.list(StorageKeys.taskPrefix);
  const tasks: StoredTask[] = [];
  for (const name of names) {
    if (name.endsWith('/')) continue;
    const task = await readTask(store, name);
    if (task) tasks.push(task);
  }
  return tasks.sort((a, b) => LIST_ORDER[a.status] - LIST_ORDER[b.status] || byCreation(a, b));
}
