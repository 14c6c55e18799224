/**
 * The one place that turns a run's outcome into status: the task's final status and reason, and
 * the mount's poll state (what `status` shows and what the scheduler resumes from after a
 * restart). Steps never write either.
 */
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import type { ErrorCode, NextStep } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import type { StoredTask } from '../tasks/task-record.js';
import type { TaskManager, TaskOutcome } from '../tasks/task-manager.js';
import type { RunOutcome } from './run-context.js';
import type { SignatureReport } from './signature-report.js';

/** How the last poll ended. */
export type PollOutcome = 'deployed' | 'up-to-date' | 'failed' | 'canceled';

/** The value at `poll_state`. */
export interface StoredPollState {
  readonly last_poll_at: string;
  readonly last_poll_outcome: PollOutcome;
  readonly last_poll_reason: string;
  readonly last_poll_code: ErrorCode | '';
  /** What should happen after a failure: a person acts, or the next poll retries. */
  readonly last_poll_next: NextStep | '';
  /** The branch tip the remote advertised at the last poll ('' when unknown). */
  readonly remote_tip: string;
  readonly last_successful_commit: string;
  readonly task: string;
  /**
   * What the last evaluation of the remote tip's signatures found (null: none about this tip).
   * A poll that did not reach the signature step keeps the previous report while it is about the
   * same tip (an up-to-date poll, a failure before the step), and drops it once the tip moved.
   */
  readonly signatures?: SignatureReport | null;
}

/** The mount's poll state, or undefined before the first poll. */
export async function readPollState(store: Store): Promise<StoredPollState | undefined> {
  return (await store.get<StoredPollState>(StorageKeys.pollState))?.value;
}

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
        reason: outcome.error.reason,
        reasonCode: outcome.error.code,
        commit,
      };
  }
}

/** What `summarise` needs. */
export interface SummariseInput {
  readonly outcome: RunOutcome;
  readonly taskId: string;
  readonly tasks: TaskManager;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** Write the task's final status and the mount's poll state; returns the final task. */
export async function summarise(input: SummariseInput): Promise<StoredTask> {
  const task = await input.tasks.finish(input.taskId, taskOutcomeOf(input.outcome));
  await writePollState(input, task);
  return task;
}

/**
 * Write the mount's poll state for a task already in its final state (an up-to-date poll has no
 * task: `uuid` ''). Poll state is a cheap,
 * non-durable record: what matters after a crash (last_successful_commit, task status) is kept
 * elsewhere, durably; a lost poll state costs at most an earlier poll after a restart.
 */
export async function writePollState(
  input: Omit<SummariseInput, 'tasks' | 'taskId'>,
  task: Pick<StoredTask, 'uuid' | 'status' | 'reason' | 'commit'>,
): Promise<void> {
  const { outcome, store } = input;
  // The previous remote tip is needed only when this poll did not learn one.
  const previous = await readPollState(store);
  const remoteTip = outcome.state.tip ?? previous?.remote_tip ?? '';
  const kept = previous?.signatures?.commit === remoteTip ? previous.signatures : null;
  const last = (await store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit))?.value.commit;
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
  await store.put(StorageKeys.pollState, state, { durable: false });
  input.logger.info(
    { task: task.uuid, outcome: pollOutcome, code: state.last_poll_code, commit: task.commit },
    'poll summarised',
  );
}
