/**
 * The owner of a mount's poll records (not settings): the poll state (what `status` shows and
 * what the scheduler resumes from after a restart) and the last successful commit (what the next
 * tip must descend from). Reads live here; the poll state is written only by the summariser
 * (./summarise.ts), the last successful commit by the pipeline's record step and by an operator
 * through the API — all through the functions below.
 */
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import type { ErrorCode, NextStep } from '../errors.js';
import type { Store } from '../storage/store.js';
import type { SignatureReport } from './signature-report.js';

/** How a poll ended; `skipped` polls (not configured, a task already queued) record nothing. */
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

/**
 * The poll state this runtime's summariser wrote last, so that the next summary does not read it
 * back. It is valid only while no one else writes the mount's poll state: this process is the
 * only poller of the mount (file store), or the holder of its lease (src/replicas: one holder
 * polls a mount). The runtime forgets it whenever it starts — at start-up and each time it wins
 * the lease, when another replica may have written since.
 */
export interface PollStateMemory {
  last: StoredPollState | undefined;
}

/** The previous poll state: the remembered one, else the stored one. */
export async function previousPollState(
  store: Store,
  memory: PollStateMemory | undefined,
): Promise<StoredPollState | undefined> {
  return memory?.last ?? readPollState(store);
}

/** The mount's poll state, or undefined before the first poll. */
export async function readPollState(store: Store): Promise<StoredPollState | undefined> {
  return (await store.get<StoredPollState>(StorageKeys.pollState))?.value;
}

/** The last successful commit with the version it was stored at, or undefined. */
export async function readLastCommit(
  store: Store,
): Promise<{ readonly value: StoredLastCommit; readonly version: number } | undefined> {
  return store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit);
}

/**
 * Store `commit` as the last successful one at `now`. With `cas` (the version read before a
 * run) the write fails with CONFLICT when someone changed it meanwhile.
 */
export async function writeLastCommit(
  store: Store,
  commit: string,
  now: Date,
  cas?: number,
): Promise<void> {
  const value: StoredLastCommit = { commit, at: now.toISOString() };
  await store.put(StorageKeys.lastSuccessfulCommit, value, cas === undefined ? {} : { cas });
}

/** Forget the last successful commit (the configured initial one applies again). */
export async function clearLastCommit(store: Store): Promise<void> {
  await store.delete(StorageKeys.lastSuccessfulCommit);
}

/** What `poll()` returns: how it ended, or `skipped` when it recorded nothing. */
export type PollResult = PollOutcome | 'skipped';
