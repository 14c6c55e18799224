/**
 * The one bound on git child processes of a process: every git call of every mount waits here for
 * a slot before its process is spawned and gives the slot back when the process is gone. A
 * thousand mounts due together then run `limit` git processes at a time instead of a thousand
 * (each a fork of git plus, for a remote, its transport helper). FIFO, so no mount starves.
 */
import { AppError } from '../errors.js';

/** Default number of git processes alive at once (`--git-concurrency`). */
export const DEFAULT_GIT_CONCURRENCY = 8;

/** A counting semaphore in front of git processes. */
export interface GitSlots {
  /** The configured bound. */
  readonly limit: number;
  /** Run `work` while holding one slot (waits for a free slot first). */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Slots held right now (git processes alive or about to be spawned). */
  readonly active: number;
  /** Calls waiting for a slot right now. */
  readonly waiting: number;
  /** The largest `active` seen since creation (for metrics and the benchmark). */
  readonly maxActive: number;
}

/** A semaphore of `limit` slots (a whole number ≥ 1). */
export function createGitSlots(limit: number = DEFAULT_GIT_CONCURRENCY): GitSlots {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new AppError('INVALID_INPUT', `git concurrency must be a whole number ≥ 1, got ${limit}`);
  }
  let active = 0;
  let maxActive = 0;
  // A queue of wake-ups; `head` avoids O(n) shifts when many calls wait.
  const queue: (() => void)[] = [];
  let head = 0;

  const acquire = (): Promise<void> => {
    if (active < limit && head === queue.length) {
      active++;
      maxActive = Math.max(maxActive, active);
      return Promise.resolve();
    }
    return new Promise((resolve) => queue.push(resolve));
  };

  const release = (): void => {
    if (head < queue.length) {
      // The slot passes straight to the next waiter: `active` is unchanged.
      const next = queue[head++];
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      next?.();
      return;
    }
    active--;
  };

  return {
    limit,
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length - head;
    },
    get maxActive() {
      return maxActive;
    },
  };
}
