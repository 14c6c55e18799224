/**
 * What the API paths and webhooks may ask of the pipeline, as one small interface: request a
 * poll, see when the next one is due, cancel a task. The HTTP layer never sees the scheduler or
 * the runtimes themselves.
 */
import { AppError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { StoredTask } from '../tasks/task-record.js';
import type { MountRuntime } from './mount-runtime.js';
import type { StoredPollState } from './poll-state.js';
import type { UnrecordedFailure } from './summarise.js';

/** The pipeline as seen by the API (added to ApiServices as `pipeline`). */
export interface PipelineControl {
  /** PollRequester-compatible: queue a poll of `mount` (coalesced, single-flight). */
  requestPoll(mount: string, reason: string): void;
  nextPollAt(mount: string): Date | undefined;
  cancelTask(mount: string, uuid: string): Promise<StoredTask>;
  /** The mount's last poll when it failed before its outcome could be stored, if so. */
  unrecordedFailure?(mount: string): UnrecordedFailure | undefined;
  /** The mount's poll state as its runtime in this process knows it (maybe not stored yet). */
  pollState?(mount: string): StoredPollState | undefined;
}

/** Build the control over a scheduler and the runtimes (looked up per call: mounts change). */
export function createPipelineControl(opts: {
  readonly scheduler: Scheduler;
  readonly runtime: (mount: string) => MountRuntime | undefined;
}): PipelineControl {
  return {
    requestPoll: (mount, reason) => opts.scheduler.requestPoll(mount, reason),
    nextPollAt: (mount) => opts.scheduler.nextPollAt(mount),
    unrecordedFailure: (mount) => opts.runtime(mount)?.unrecordedFailure(),
    pollState: (mount) => opts.runtime(mount)?.pollState(),
    async cancelTask(mount, uuid) {
      const rt = opts.runtime(mount);
      if (!rt) throw new AppError('NOT_FOUND', `mount ${mount} has no pipeline`);
      return rt.cancelTask(uuid);
    },
  };
}
