/**
 * One poll as an ordered list of steps (cf. Flux's reconcile functions), top to bottom here. The
 * first step probes the remote before any task exists; the task is started only when a step that
 * needs it comes next, so an up-to-date poll adds no task. The runner stops at the first error or
 * at "up to date", turns whatever was thrown into an AppError, and returns an outcome — it never
 * writes a status; `summarise` does (docs/compat.md, "The poll").
 */
import { AppError, isAppError, toAppError } from '../errors.js';
import type { RunningTask } from '../tasks/task-manager.js';
import type { Configuration } from '../config/settings-schemas.js';
import type { PipelineDeps, RunInput, RunOutcome, RunState, Step } from './run-context.js';
import { checkAncestry, fetchTip, probeRemote } from './steps-git.js';
import { ensureImage, makeVaultRequests, recordSuccess, runCommands } from './steps-run.js';
import { checkSignatures } from './steps-signatures.js';

/** The steps of a poll, in order: probe, git, signatures, image, Vault, run, record. */
export const PIPELINE_STEPS: readonly Step[] = [
  probeRemote,
  fetchTip,
  checkAncestry,
  checkSignatures,
  ensureImage,
  makeVaultRequests,
  runCommands,
  recordSuccess,
];

/** A started task and the timeout of its run. */
export interface StartedTask {
  readonly task: RunningTask;
  readonly timeoutSeconds: number;
}

/** What a poll is given. */
export interface PollInput {
  readonly config: Configuration;
  /** Queue and start the poll's task; undefined when one is already queued or running. */
  readonly startTask: () => Promise<StartedTask | undefined>;
}

/** How a poll's steps ended: an outcome (with its task, if one was started), or skipped. */
export type PollRun =
  | { readonly kind: 'ran'; readonly outcome: RunOutcome; readonly taskId?: string }
  | { readonly kind: 'skipped' };

/** The cancel reason as an AppError (the task manager aborts with one). */
function canceled(signal: AbortSignal): AppError {
  return isAppError(signal.reason, 'TASK_CANCELED')
    ? signal.reason
    : new AppError('TASK_CANCELED', 'canceled by an operator');
}

/**
 * Stands in for the task while the steps before it run: nothing can cancel it yet, and what the
 * steps log is kept and written to the task's log once it starts.
 */
function taskNotYetStarted(pending: string[]): RunningTask {
  return {
    uuid: '',
    signal: NEVER_ABORTED,
    log: (s) => pending.push(s),
    // The commit is recorded on the real task after the first step that runs in it.
    recordCommit: () => Promise.resolve(),
  };
}

/** A signal nothing can abort (its controller is not kept): shared, as it never changes. */
const NEVER_ABORTED = new AbortController().signal;

/** Run the steps in order; throws only when a task cannot be queued or started. */
export async function runPipeline(
  deps: PipelineDeps,
  poll: PollInput,
  steps: readonly Step[] = PIPELINE_STEPS,
): Promise<PollRun> {
  const state: RunState = { lastVersion: 0, signers: [], env: {} };
  let shown: string | undefined;
  const pending: string[] = [];
  let input: RunInput = {
    config: poll.config,
    task: taskNotYetStarted(pending),
    timeoutSeconds: 0,
  };
  let started = false;
  const start = async (): Promise<boolean> => {
    const s = await poll.startTask();
    if (s === undefined) return false;
    for (const line of pending.splice(0)) s.task.log(line);
    input = { config: poll.config, task: s.task, timeoutSeconds: s.timeoutSeconds };
    started = true;
    return true;
  };
  const ran = (outcome: RunOutcome): PollRun => ({
    kind: 'ran',
    outcome,
    ...(started ? { taskId: input.task.uuid } : {}),
  });
  // The runtime's logger already names the mount; the task is added once there is one.
  let log = deps.logger;
  for (const step of steps) {
    if (!step.beforeTask && !started) {
      if (!(await start())) return { kind: 'skipped' };
      log = log.child({ task: input.task.uuid });
    }
    const { signal } = input.task;
    if (signal.aborted) return ran({ kind: 'failed', error: canceled(signal), state });
    try {
      log.debug({ step: step.name }, 'step started');
      const result = await step.run(deps, input, state);
      if (result === 'up-to-date') return ran({ kind: 'up-to-date', state });
      // The task shows its commit from the step that learned it on, not only once it ended.
      if (started && state.tip !== undefined && state.tip !== shown) {
        shown = state.tip;
        await input.task.recordCommit(state.tip);
      }
    } catch (e) {
      // Whatever a canceled step throws (a killed git, an aborted request) is a cancel.
      const error = signal.aborted ? canceled(signal) : toAppError(e);
      log.warn({ step: step.name, code: error.code, reason: error.reason }, 'step failed');
      // A failure before the task started still gets a task, so it is seen in the history.
      if (!started && !(await start())) return { kind: 'skipped' };
      input.task.log(`[flant-gitops] ${step.name} failed: ${error.reason}\n`);
      return ran({ kind: 'failed', error, state });
    }
  }
  return ran({ kind: 'deployed', state });
}
