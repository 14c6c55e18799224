/**
 * One run as an ordered list of steps (cf. Flux's reconcile functions). The runner of the list
 * stops at the first error or at "up to date", turns whatever was thrown into an AppError, and
 * returns an outcome — it never writes a status; `summarise` does.
 */
import { AppError, isAppError, toAppError } from '../errors.js';
import type { PipelineDeps, RunInput, RunOutcome, RunState, Step } from './run-context.js';
import { checkAncestry, resolveTip } from './steps-git.js';
import { ensureImage, makeVaultRequests, recordSuccess, runCommands } from './steps-run.js';
import { checkSignatures } from './steps-signatures.js';

/** The steps of a run, in order (spec §3): git, signatures, image, Vault, run, record. */
export const PIPELINE_STEPS: readonly Step[] = [
  resolveTip,
  checkAncestry,
  checkSignatures,
  ensureImage,
  makeVaultRequests,
  runCommands,
  recordSuccess,
];

/** The cancel reason as an AppError (the task manager aborts with one). */
function canceled(signal: AbortSignal): AppError {
  return isAppError(signal.reason, 'TASK_CANCELED')
    ? signal.reason
    : new AppError('TASK_CANCELED', 'canceled by an operator');
}

/** Run the steps in order; never throws. */
export async function runPipeline(
  deps: PipelineDeps,
  input: RunInput,
  steps: readonly Step[] = PIPELINE_STEPS,
): Promise<RunOutcome> {
  const state: RunState = { lastVersion: 0, signers: [], env: {} };
  const { signal } = input.task;
  const log = deps.logger.child({ mount: deps.mount, task: input.task.uuid });
  let shown: string | undefined;
  for (const step of steps) {
    if (signal.aborted) return { kind: 'failed', error: canceled(signal), state };
    try {
      log.debug({ step: step.name }, 'step started');
      const result = await step.run(deps, input, state);
      // The task shows its commit from the step that learned it on, not only once it ended.
      if (state.tip !== undefined && state.tip !== shown) {
        shown = state.tip;
        await input.task.recordCommit(state.tip);
      }
      if (result === 'up-to-date') return { kind: 'up-to-date', state };
    } catch (e) {
      // Whatever a canceled step throws (a killed git, an aborted request) is a cancel.
      const error = signal.aborted ? canceled(signal) : toAppError(e);
      log.warn({ step: step.name, code: error.code, reason: error.reason }, 'step failed');
      input.task.log(`[flant-gitops] ${step.name} failed: ${error.reason}\n`);
      return { kind: 'failed', error, state };
    }
  }
  return { kind: 'deployed', state };
}
