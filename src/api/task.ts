/**
 * `task` — the list of the mount's tasks: completed first, then running, then queued, each
 * group oldest first (as the original listed them).
 */
import { AppError } from '../errors.js';
import { listTasks } from '../tasks/task-record.js';
import type { PathDescriptor } from './types.js';

/** Capture of a task id in the task paths. */
export const TASK_UUID = '(?<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';

/** The `task` list path. */
export const taskListPath: PathDescriptor = {
  pattern: 'task/?',
  synopsis: 'List the tasks of the mount.',
  description:
    'Returns task ids as keys (completed, then running, then queued) and key_info with status, ' +
    'reason and commit of each.',
  fields: {},
  operations: {
    async list(_req, ctx) {
      const tasks = await listTasks(ctx.store);
      if (tasks.length === 0) throw new AppError('NOT_FOUND', 'no tasks');
      const keyInfo: Record<string, unknown> = {};
      for (const t of tasks) {
        keyInfo[t.uuid] = {
          status: t.status,
          reason: t.reason,
          commit: t.commit,
          created: t.created,
        };
      }
      return { data: { keys: tasks.map((t) => t.uuid), key_info: keyInfo } };
    },
  },
};
