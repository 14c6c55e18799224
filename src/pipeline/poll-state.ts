/**
 * The owner of a mount's poll records (not settings): the poll state (what `status` shows and
 * what the scheduler resumes from after a restart) and the last successful commit (what the next
 * tip must descend from). Reads live here; the poll state is written only by the summariser
 * (./summarise.ts) through the runtime's PollStateMemory (which keeps an unchanged one in memory
 * for a few seconds), the last successful commit by the pipeline's record step and by an
 * operator through the API — all through the functions below.
 */
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import { isAppError, toAppError, type ErrorCode, type NextStep } from '../errors.js';
import type { Logger } from '../logging.js';
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

/** A single-shot timer (injectable so tests decide when the write-behind flush runs). */
export interface FlushTimer {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

const realTimer: FlushTimer = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How long an up-to-date poll's state may stay in memory only (the write-behind window). */
export const POLL_STATE_FLUSH_MS = 5_000;

/**
 * The poll state as this runtime knows it, kept in memory so that a poll does not read it back
 * and a poll that changed nothing does not write it at once (write-behind):
 * - a state that differs from the last one only in `last_poll_at` (an up-to-date poll after an
 *   up-to-date poll of the same tip) stays in memory and is written by a timer within
 *   POLL_STATE_FLUSH_MS, by `flush()` and by `stop()`;
 * - every other state (a task was created, a commit recorded, a failure or a cancel, the tip or
 *   the signatures moved) is written through at once, superseding a pending one.
 * The status path of this process reads `current()`; a reader elsewhere (another replica, an
 * OpenBao standby) reads the store and sees `last_poll_at` at most POLL_STATE_FLUSH_MS behind —
 * nothing else, since every other change is written through. A crash loses at most that
 * window of `last_poll_at` (after an unclean stop every mount is polled at once anyway).
 * The memory is valid only while no one else writes the mount's poll state: this process is the
 * only poller of the mount (file store), or the holder of its lease (src/replicas: one holder
 * polls a mount). `forget()` drops it whenever the runtime starts (start-up, each won lease).
 * Should a former holder's timer fire after it lost the lease, its flush is a check-and-set on
 * the version it last wrote or read: it never overwrites another writer's state (the pending
 * one is dropped instead).
 */
export interface PollStateMemory {
  /** What this runtime knows last (written or pending), without a store read. */
  current(): StoredPollState | undefined;
  /** The previous poll state: the remembered one, else the stored one (then remembered). */
  previous(): Promise<StoredPollState | undefined>;
  /** Record a poll's state; `mayDefer`: an up-to-date poll, which may stay in memory. */
  record(state: StoredPollState, mayDefer: boolean): Promise<void>;
  /** Write a pending state now (never throws; a failure is logged and retried later). */
  flush(): Promise<void>;
  /** Flush, then write every later state through until `forget()` (the runtime stopped). */
  stop(): Promise<void>;
  /** Drop the memory and a pending state (another replica may have written since). */
  forget(): void;
}

/** The memory of one mount's poll state over `store` (scoped to the mount). */
export function createPollStateMemory(opts: {
  readonly store: Store;
  readonly logger: Logger;
  readonly flushMs?: number;
  readonly timer?: FlushTimer;
}): PollStateMemory {
  const { store, logger } = opts;
  const timer = opts.timer ?? realTimer;
  const flushMs = opts.flushMs ?? POLL_STATE_FLUSH_MS;
  let last: StoredPollState | undefined;
  /** The store's version of poll_state as last written or read (the base of a pending one). */
  let version: number | undefined;
  let pending = false;
  let deferring = true;
  let handle: unknown;
  // Writes of this runtime's poll state one after the other: a timer's flush never overtakes
  // (or is overtaken by) a poll's write.
  let writing: Promise<unknown> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => {
    const run = writing.then(fn, fn);
    writing = run.catch(() => undefined);
    return run;
  };
  const disarm = (): void => {
    if (handle !== undefined) timer.clear(handle);
    handle = undefined;
  };
  const arm = (): void => {
    if (handle !== undefined || !deferring) return;
    handle = timer.set(() => {
      handle = undefined;
      void memory.flush();
    }, flushMs);
  };
  const sameButTime = (a: StoredPollState, b: StoredPollState): boolean =>
    JSON.stringify({ ...a, last_poll_at: '' }) === JSON.stringify({ ...b, last_poll_at: '' });

  const memory: PollStateMemory = {
    current: () => last,
    async previous() {
      if (last !== undefined) return last;
      const e = await store.get<StoredPollState>(StorageKeys.pollState);
      if (e !== undefined && last === undefined) {
        last = e.value;
        version = e.version;
      }
      return e?.value;
    },
    async record(state, mayDefer) {
      if (
        mayDefer &&
        deferring &&
        last !== undefined &&
        version !== undefined &&
        sameButTime(last, state)
      ) {
        last = state;
        pending = true;
        arm();
        return;
      }
      await serial(async () => {
        disarm();
        pending = false;
        // Unknown until the write succeeded: a failed write leaves the next poll to read it.
        last = undefined;
        version = undefined;
        version = await store.put(StorageKeys.pollState, state, { durable: false });
        last = state;
      });
    },
    flush: () =>
      serial(async () => {
        disarm();
        const state = last;
        if (!pending || state === undefined) return;
        try {
          version = await store.put(StorageKeys.pollState, state, {
            durable: false,
            ...(version === undefined ? {} : { cas: version }),
          });
          if (last === state) pending = false;
        } catch (e) {
          if (isAppError(e, 'CONFLICT')) {
            // Someone else wrote the poll state (a new lease holder): theirs stands.
            logger.info({}, 'poll state written elsewhere; the pending one is dropped');
            if (last === state) {
              pending = false;
              last = undefined;
              version = undefined;
            }
            return;
          }
          logger.warn({ err: toAppError(e).reason }, 'poll state could not be written; retried');
          arm();
        }
      }),
    async stop() {
      deferring = false;
      await memory.flush();
      disarm();
    },
    forget() {
      disarm();
      pending = false;
      deferring = true;
      last = undefined;
      version = undefined;
    },
  };
  return memory;
}

/** The previous poll state: the remembered one, else the stored one. */
export async function previousPollState(
  store: Store,
  memory: PollStateMemory | undefined,
): Promise<StoredPollState | undefined> {
  return memory ? memory.previous() : readPollState(store);
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
