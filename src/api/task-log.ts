/**
 * `task/<uuid>/log` — the output of a task. `offset` and `limit` count characters, as the
 * original did (default limit 500; 0 = everything from offset). A running task's log is as of
 * its last batched write (at most ~200 ms old).
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { DEFAULT_LOG_READ_LIMIT, readTaskLogText, sliceLog } from '../tasks/task-log.js';
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs, intField } from '../config/fields.js';
import { TASK_UUID } from './task.js';
import type { PathDescriptor } from './types.js';

/** Query fields of a log read. */
export const TaskLogQuery = z.object({
  offset: intField({ default: 0, min: 0, description: 'Characters to skip.' }),
  limit: intField({
    default: DEFAULT_LOG_READ_LIMIT,
    min: 0,
    description: 'Characters to return; 0 = all.',
  }),
});

/** The `task/<uuid>/log` path. */
export const taskLogPath: PathDescriptor = {
  pattern: `task/${TASK_UUID}/log`,
  synopsis: 'Read the output of a task.',
  description:
    'Returns {result: <text>}: limit characters from offset (defaults 0 and 500; limit=0 returns ' +
    'the rest). Logs are bounded: past 1 MiB the middle is replaced by a marker.',
  fields: fieldSpecs(TaskLogQuery),
  operations: {
    async read(req, ctx) {
      const uuid = req.captures['uuid'] ?? '';
      const { offset, limit } = parseFields(TaskLogQuery, req.data);
      const text = await readTaskLogText(ctx.store, uuid);
      if (text === undefined) throw new AppError('NOT_FOUND', `task ${uuid} has no log`);
      return { data: { result: sliceLog(text, offset, limit) } };
    },
  },
};
