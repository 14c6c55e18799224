/**
 * `task/configure` — the task manager's settings: how long a run may take and how many finished
 * tasks (with their logs) are kept.
 */
import { z } from 'zod';
import { StorageKeys, type StoredTaskConfiguration } from '../config/stored.js';
import { DEFAULT_TASK_CONFIGURATION, readTaskConfiguration } from '../tasks/task-record.js';
import { durationField, intField, parseFields } from './fields.js';
import type { PathDescriptor } from './types.js';

/** The body of a write; absent fields take their defaults (30m, 10). */
export const TaskConfiguration = z.strictObject({
  task_timeout: durationField({ default: DEFAULT_TASK_CONFIGURATION.task_timeout, min: 1 }),
  task_history_limit: intField({ default: DEFAULT_TASK_CONFIGURATION.task_history_limit, min: 0 }),
});

/** The `task/configure` path. */
export const taskConfigurePath: PathDescriptor = {
  pattern: 'task/configure',
  synopsis: 'Task manager settings: run timeout and history size.',
  description:
    'Write replaces the settings (absent fields take their defaults); read returns them, with ' +
    'defaults when never written. task_timeout bounds a run; task_history_limit is how many ' +
    'finished tasks and their logs are kept (the oldest are deleted first).',
  fields: {
    task_timeout: {
      type: 'duration',
      default: '30m',
      description: 'Longest a run may take (seconds or 90s/5m/1h30m).',
    },
    task_history_limit: {
      type: 'int',
      default: 10,
      description: 'Finished tasks kept, with their logs.',
    },
  },
  operations: {
    async read(_req, ctx) {
      return { data: { ...(await readTaskConfiguration(ctx.store)) } };
    },
    async update(req, ctx) {
      const value: StoredTaskConfiguration = parseFields(TaskConfiguration, req.data);
      await ctx.store.put(StorageKeys.taskConfiguration, value);
      return undefined;
    },
  },
};
