/**
 * The poll scheduler: one single-flight, coalescing lane per mount, fed by a periodic tick and by
 * `requestPoll` (the `poll` path and webhooks). A lane runs one poll at a time; requests that
 * arrive meanwhile collapse into at most one follow-up poll. A tick starts a poll when
 * `git_poll_period` (±10 % jitter, rolled once per poll) has passed since the lane's last poll.
 * Clock and randomness are injected; all state lives in the scheduler instance.
 */
import type { Logger } from '../logging.js';
import type { Ticker } from './cron-ticker.js';

/** What the scheduler needs from a mount. */
export interface PollTarget {
  /** Seconds between periodic polls, or undefined when the mount is not configured. */
  pollPeriodSeconds(): Promise<number | undefined>;
  /** When the last poll happened (persisted), so a restart does not poll everything at once. */
  lastPollAt(): Promise<Date | undefined>;
  /** Run one poll to its end (a thrown error is logged and does not stop the lane). */
  poll(reason: string): Promise<unknown>;
}

/** Options of a scheduler. */
export interface SchedulerOptions {
  /** The mounts to schedule, looked up on every tick and request (mounts come and go). */
  readonly targets: () => ReadonlyMap<string, PollTarget>;
  readonly ticker: Ticker;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Uniform in [0, 1). */
  readonly random?: () => number;
  /** Relative jitter of the period, default 0.1 (±10 %). */
  readonly jitter?: number;
}

/** The scheduler of all mounts. */
export interface Scheduler {
  start(): void;
  /** Stop ticking, drop pending follow-ups, wait for running polls. */
  stop(): Promise<void>;
  /** One tick (the ticker calls it; tests call it directly). */
  tick(): Promise<void>;
  /** Ask for a poll of `mount` now (PollRequester-compatible); coalesced, never overlapping. */
  requestPoll(mount: string, reason: string): void;
  /** Resolves when no tick and no poll is running or pending. */
  whenIdle(): Promise<void>;
  /** When the next periodic poll is due, if known. */
  nextPollAt(mount: string): Date | undefined;
  /** True while a poll of `mount` runs or waits. */
  isBusy(mount: string): boolean;
}

interface Lane {
  running: Promise<void> | undefined;
  followUp: string | undefined;
  lastPollAt: Date | undefined;
  seeded: boolean;
  /** 1 ± jitter, rolled when a poll starts. */
  factor: number;
  periodSeconds: number | undefined;
}

/** Create a scheduler; call `start()` to begin ticking. */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0.1;
  const lanes = new Map<string, Lane>();
  let ticking: Promise<void> | undefined;
  let stopped = false;

  const lane = (mount: string): Lane => {
    let l = lanes.get(mount);
    if (!l) {
      l = {
        running: undefined,
        followUp: undefined,
        lastPollAt: undefined,
        seeded: false,
        factor: 1,
        periodSeconds: undefined,
      };
      lanes.set(mount, l);
    }
    return l;
  };

  const dueAt = (l: Lane): Date | undefined => {
    if (l.periodSeconds === undefined) return undefined;
    if (l.lastPollAt === undefined) return now();
    return new Date(l.lastPollAt.getTime() + l.periodSeconds * 1000 * l.factor);
  };

  const run = (mount: string, l: Lane, reason: string): void => {
    l.running = (async () => {
      let next: string | undefined = reason;
      while (next !== undefined && !stopped) {
        l.followUp = undefined;
        l.lastPollAt = now();
        l.factor = 1 + (random() * 2 - 1) * jitter;
        const target = opts.targets().get(mount);
        if (!target) break;
        try {
          await target.poll(next);
          // The configuration may have changed (or never been read, for a requested poll).
          l.periodSeconds = await target.pollPeriodSeconds();
        } catch (e) {
          opts.logger.error({ mount, reason: next, err: String(e) }, 'poll failed unexpectedly');
        }
        next = l.followUp;
      }
    })().finally(() => {
      l.running = undefined;
      l.followUp = undefined;
    });
  };

  const requestPoll = (mount: string, reason: string): void => {
    if (stopped) return;
    if (!opts.targets().has(mount)) {
      opts.logger.warn({ mount, reason }, 'poll requested for an unknown mount');
      return;
    }
    const l = lane(mount);
    if (l.running) {
      l.followUp ??= reason;
      return;
    }
    run(mount, l, reason);
  };

  const tickOnce = async (): Promise<void> => {
    for (const [mount, target] of opts.targets()) {
      const l = lane(mount);
      if (l.running) continue;
      try {
        const period = await target.pollPeriodSeconds();
        l.periodSeconds = period;
        if (period === undefined) continue;
        if (!l.seeded) {
          l.seeded = true;
          l.lastPollAt ??= await target.lastPollAt();
          l.factor = 1 + (random() * 2 - 1) * jitter;
        }
      } catch (e) {
        opts.logger.warn({ mount, err: String(e) }, 'tick could not read the mount');
        continue;
      }
      const due = dueAt(l);
      if (!l.running && due !== undefined && now().getTime() >= due.getTime())
        run(mount, l, 'periodic');
    }
  };

  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    // A slow tick (slow storage) is not stacked: the next one is skipped.
    ticking ??= tickOnce().finally(() => {
      ticking = undefined;
    });
    return ticking;
  };

  const whenIdle = async (): Promise<void> => {
    for (;;) {
      const pending = [ticking, ...[...lanes.values()].map((l) => l.running)].filter(
        (p): p is Promise<void> => p !== undefined,
      );
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  };

  return {
    start() {
      stopped = false;
      opts.ticker.start(() => void tick());
    },
    async stop() {
      stopped = true;
      opts.ticker.stop();
      for (const l of lanes.values()) l.followUp = undefined;
      await whenIdle();
    },
    tick,
    requestPoll,
    whenIdle,
    nextPollAt(mount) {
      const l = lanes.get(mount);
      return l ? dueAt(l) : undefined;
    },
    isBusy: (mount) => lanes.get(mount)?.running !== undefined,
  };
}
