/**
 * `poll` — ask for an immediate poll of this mount. Like a webhook, it only requests: the poll
 * runs in the mount's single-flight queue (coalesced with any other request), never in the
 * request itself.
 */
import { AppError } from '../errors.js';
import type { PipelineControl } from '../pipeline/control.js';
import type { PathContext, PathDescriptor } from './types.js';

/** The pipeline control of the context, or INTERNAL when the transport did not wire one. */
export function requirePipeline(ctx: PathContext): PipelineControl {
  const p = ctx.services.pipeline;
  if (!p) throw new AppError('INTERNAL', 'the pipeline is not wired into the API services');
  return p;
}

/** The `poll` path. */
export const pollPath: PathDescriptor = {
  pattern: 'poll',
  synopsis: 'Request an immediate poll of the repository.',
  description:
    'Queues a poll in the mount’s single-flight queue and returns at once with queued=true. ' +
    'Requests made while a poll runs are merged into one follow-up poll. Follow the result with ' +
    'the status and task paths.',
  fields: {},
  operations: {
    async update(req, ctx) {
      requirePipeline(ctx).requestPoll(req.mount, 'api');
      ctx.logger.info({ mount: req.mount }, 'poll requested through the API');
      return { data: { queued: true } };
    },
  },
};
