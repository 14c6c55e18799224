/** `task/<uuid>/cancel` — stop a running task (its container is killed) or drop a queued one. */
import { requirePipeline } from './poll.js';
import { TASK_UUID } from './task.js';
import type { PathDescriptor } from './types.js';

/** The `task/<uuid>/cancel` path. */
export const taskCancelPath: PathDescriptor = {
  pattern: `task/${TASK_UUID}/cancel`,
  synopsis: 'Cancel a task.',
  description:
    'A running task is aborted (its container killed) and ends CANCELED; a queued one is marked ' +
    'CANCELED at once; a finished task is left as it is.',
  fields: {},
  operations: {
    async update(req, ctx) {
      const uuid = req.captures['uuid'] ?? '';
      await requirePipeline(ctx).cancelTask(req.mount, uuid);
      ctx.logger.info(
        { mount: req.mount, task: uuid, operator_action: true },
        'task cancel requested',
      );
      return undefined;
    },
  },
};
