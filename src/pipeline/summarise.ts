/**
 * The one place that turns a poll's outcome into status — every outcome, "up to date" included:
 * the task's final status and reason, and the mount's poll state (what `status` shows and what
 * the scheduler resumes from after a restart). Steps and the runtime never write either; a test
 * (test/unit/settings-ownership.test.ts) scans src/ for other writers.
 */
import { REASON_MAX_CHARS, truncateText } from '../config/limits.js';
import { StorageKeys } from '../config/stored.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import type { StoredTask } from '../tasks/task-record.js';
import type { TaskManager, TaskOutcome } from '../tasks/task-manager.js';
import {
  previousPollState,
  readLastCommit,
  type PollOutcome,
  type PollStateMemory,
  type StoredPollState,
} from './poll-state.js';
import type { RunOutcome } from './run-context.js';

/** The task outcome for a run outcome. */
export function taskOutcomeOf(outcome: RunOutcome): TaskOutcome {
  const commit = outcome.state.tip ?? '';
  switch (outcome.kind) {
    case 'deployed':
      return {
        status: 'SUCCEEDED',
        reason: `commit ${commit} processed`,
        reasonCode: 'DEPLOYED',
        commit,
      };
    case 'up-to-date':
      return {
        status: 'SUCCEEDED',
        reason: `up to date at ${commit}`,
        reasonCode: 'UP_TO_DATE',
        commit,
      };
    case 'failed':
      return {
        status: outcome.error.code === 'TASK_CANCELED' ? 'CANCELED' : 'FAILED',
        // Every stored reason is bounded: it is copied into the task, the poll state and replies.
        reason: truncateText(outcome.error.reason, REASON_MAX_CHARS),
        reasonCode: outcome.error.code,
        commit,
      };
  }
}

/** What `summarise` needs. */
export interface SummariseInput {
  readonly outcome: RunOutcome;
  /** The poll's task; absent when the poll ended before one was needed (up to date). */
  readonly taskId?: string;
  readonly tasks: TaskManager;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The runtime's memory of the poll state it wrote last (absent: read it from the store). */
  readonly memory?: PollStateMemory;
}

/**
 * Write every poll's outcome: the task's final status (when the poll had a task) and the mount's
 * poll state; returns how the poll ended, which is what the metrics count.
 */
export async function summarise(input: SummariseInput): Promise<PollOutcome> {
  const outcome = taskOutcomeOf(input.outcome);
  const task =
    input.taskId === undefined
      ? { uuid: '', status: outcome.status, reason: outcome.reason, commit: outcome.commit }
      : await input.tasks.finish(input.taskId, outcome);
  return writePollState(input, task);
}

/**
 * Write the mount's poll state for a poll whose task (if any: an up-to-date poll has none, `uuid`
 * '') is in its final state. Poll state is a cheap, non-durable record: what matters after a
 * crash (last_successful_commit, task status) is kept elsewhere, durably; a lost poll state costs
 * at most an earlier poll after a restart — which is also why an unchanged one may be written
 * behind (PollStateMemory). Only `summarise` calls it.
 */
async function writePollState(
  input: Pick<SummariseInput, 'outcome' | 'store' | 'logger' | 'now' | 'memory'>,
  task: Pick<StoredTask, 'uuid' | 'status' | 'reason' | 'commit'>,
): Promise<PollOutcome> {
  const { outcome, store } = input;
  // The previous remote tip is needed only when this poll did not learn one.
  const previous = await previousPollState(store, input.memory);
  const remoteTip = outcome.state.tip ?? previous?.remote_tip ?? '';
  const kept = previous?.signatures?.commit === remoteTip ? previous.signatures : null;
  // An up-to-date poll changed nothing since its probe read the last successful commit.
  const probed = outcome.kind === 'up-to-date' ? outcome.state.lastStored : undefined;
  const last = probed ?? (await readLastCommit(store))?.value.commit;
  const failed = outcome.kind === 'failed' ? outcome.error : undefined;
  const pollOutcome: PollOutcome =
    outcome.kind === 'failed' ? (task.status === 'CANCELED' ? 'canceled' : 'failed') : outcome.kind;
  const state: StoredPollState = {
    last_poll_at: input.now().toISOString(),
    last_poll_outcome: pollOutcome,
    last_poll_reason: task.reason,
    last_poll_code: failed?.code ?? '',
    last_poll_next: failed?.next ?? '',
    remote_tip: remoteTip,
    last_successful_commit: last ?? '',
    task: task.uuid,
    signatures: outcome.state.signatures ?? kept,
  };
  // An up-to-date poll that changed nothing but the time may stay in memory for a few seconds
  // (write-behind, see PollStateMemory); every other outcome is written at once.
  if (input.memory) await input.memory.record(state, pollOutcome === 'up-to-date');
  else await store.put(StorageKeys.pollState, state, { durable: false });
  input.logger.info(
    { task: task.uuid, outcome: pollOutcome, code: state.last_poll_code, commit: task.commit },
    'poll summarised',
  );
  return pollOutcome;
}

/** A poll that failed before its outcome could be recorded (its task could not be written). */
export interface UnrecordedFailure {
  readonly at: Date;
  readonly code: AppError['code'];
  readonly reason: string;
}

/**
 * Record a poll that threw before it was summarised (its task could not be queued, started or
 * finished: a full disk, a failing store). Tries to write the poll state as failed; when even
 * that fails, the caller keeps the returned failure in memory so `status` still says so
 * instead of showing the earlier outcome.
 */
export async function summariseUnrecorded(
  input: Omit<SummariseInput, 'outcome' | 'taskId' | 'tasks'>,
  cause: unknown,
): Promise<UnrecordedFailure> {
  const err = toAppError(cause, 'STORAGE_FAILED');
  const error = new AppError(err.code, `the poll could not record its task: ${err.reason}`, {
    cause,
    next: err.next,
  });
  const failure: UnrecordedFailure = { at: input.now(), code: error.code, reason: error.reason };
  try {
    await writePollState(
      {
        ...input,
        outcome: { kind: 'failed', error, state: { lastVersion: 0, signers: [], env: {} } },
      },
      { uuid: '', status: 'FAILED', reason: error.reason, commit: '' },
    );
  } catch (e) {
    input.logger.warn({ err: toAppError(e).reason }, 'poll state could not be written either');
  }
  return failure;
}
