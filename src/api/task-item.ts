/** `task/<uuid>` — one task: its status, why it ended so, when, and which commit. */
import { AppError } from '../errors.js';
import { readTask } from '../tasks/task-record.js';
import { TASK_UUID } from './task.js';
import type { PathDescriptor } from './types.js';

/** The `task/<uuid>` path. */
export const taskItemPath: PathDescriptor = {
  pattern: `task/${TASK_UUID}`,
  synopsis: 'Read one task.',
  description:
    'Returns uuid, status (QUEUED RUNNING SUCCEEDED FAILED CANCELED), reason, reason_code, ' +
    'created, modified, commit and trigger.',
  fields: {},
  operations: {
    async read(req, ctx) {
      const uuid = req.captures['uuid'] ?? '';
      const t = await readTask(ctx.store, uuid);
      if (!t) throw new AppError('NOT_FOUND', `task ${uuid} does not exist`);
      return {
        data: {
          uuid: t.uuid,
          status: t.status,
          reason: t.reason,
          reason_code: t.reason_code,
          created: t.created,
          modified: t.modified,
          commit: t.commit,
          trigger: t.trigger,
        },
      };
    },
  },
};
