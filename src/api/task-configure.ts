/**
 * `task/configure` — the task manager's settings: how long a run may take and how many finished
 * tasks (with their logs) are kept. The fields and defaults are the `TaskSettings` schema's.
 */
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { TaskSettings } from '../config/settings-schemas.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `task/configure` path. */
export const taskConfigurePath: PathDescriptor = {
  pattern: 'task/configure',
  synopsis: 'Task manager settings: run timeout and history size.',
  description:
    'Write replaces the settings (absent fields take their defaults); read returns them, with ' +
    'defaults when never written. task_timeout bounds a run; task_history_limit is how many ' +
    'finished tasks and their logs are kept (the oldest are deleted first).',
  fields: fieldSpecs(TaskSettings),
  operations: {
    async read(req, ctx) {
      return { data: { ...(await settingsOf(req, ctx).effectiveTaskSettings()) } };
    },
    async update(req, ctx) {
      await settingsOf(req, ctx).taskSettings.put(parseFields(TaskSettings, req.data));
      return undefined;
    },
  },
};
