/**
 * `status` — what the mount's poller did last and will do next: last poll time and outcome,
 * the remote tip it saw, the last successful commit, the task queued or running, the next poll.
 */
import { readLastCommit, readPollState } from '../pipeline/poll-state.js';
import { statusFields } from '../pipeline/signature-report.js';
import { settingsOf } from './settings.js';
import { listTasks } from '../tasks/task-record.js';
import type { PathDescriptor } from './types.js';

/** The `status` path. */
export const statusPath: PathDescriptor = {
  pattern: 'status',
  synopsis: 'Poll status of the mount.',
  description:
    'Returns the last poll (time, outcome, reason and code), the remote tip seen, the last ' +
    'successful commit, the task queued or running (if any), when the next periodic poll is due, ' +
    'and what the remote tip still lacks: tip_signatures ("1 of 2, missing 1"), the required ' +
    'number, the valid signatures (key name and fingerprint), the rejected ones with their ' +
    'reason, and how many are missing.',
  fields: {},
  operations: {
    async read(req, ctx) {
      // This process's runtime may know a newer one than the store (an up-to-date poll's state
      // is written behind, within a few seconds); the newer of the two is shown. Elsewhere
      // (another replica, an OpenBao standby) only last_poll_at can lag, by that window.
      const known = ctx.services.pipeline?.pollState?.(req.mount);
      const read = await readPollState(ctx.store);
      const stored =
        known !== undefined && (read === undefined || known.last_poll_at >= read.last_poll_at)
          ? known
          : read;
      // A poll that could not even store its outcome (e.g. a full disk) is still shown.
      const failure = ctx.services.pipeline?.unrecordedFailure?.(req.mount);
      const poll =
        failure !== undefined &&
        (stored === undefined || failure.at.toISOString() > stored.last_poll_at)
          ? {
              ...(stored ?? { remote_tip: '', signatures: null }),
              last_poll_at: failure.at.toISOString(),
              last_poll_outcome: 'failed' as const,
              last_poll_reason: failure.reason,
              last_poll_code: failure.code,
            }
          : stored;
      const last = (await readLastCommit(ctx.store))?.value;
      const configured = (await settingsOf(req, ctx).configuration.get()) !== undefined;
      const tasks = await listTasks(ctx.store);
      const running = tasks.find((t) => t.status === 'RUNNING');
      const queued = tasks.find((t) => t.status === 'QUEUED');
      const next = configured ? ctx.services.pipeline?.nextPollAt(req.mount) : undefined;
      return {
        data: {
          configured,
          last_poll_at: poll?.last_poll_at ?? null,
          last_poll_outcome: poll?.last_poll_outcome ?? null,
          last_poll_reason: poll?.last_poll_reason ?? null,
          last_poll_code: poll?.last_poll_code || null,
          remote_tip: poll?.remote_tip || null,
          last_successful_commit: last?.commit ?? null,
          last_successful_commit_at: last?.at ?? null,
          running_task: running?.uuid ?? null,
          queued_task: queued?.uuid ?? null,
          next_poll_at: next?.toISOString() ?? null,
          ...statusFields(poll?.signatures, poll?.remote_tip || undefined),
        },
      };
    },
  },
};
