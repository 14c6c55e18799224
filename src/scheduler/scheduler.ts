/**
 * The poll scheduler: one single-flight, coalescing lane per mount, fed by a periodic tick and by
 * `requestPoll` (the `poll` path and webhooks). A lane runs one poll at a time; requests that
 * arrive meanwhile collapse into at most one follow-up poll. A tick starts a poll when
 * `git_poll_period` (±10 % jitter, rolled once per poll) has passed since the lane's last poll.
 *
 * Scale: the tick (every few seconds) re-reads each mount's period; between ticks ONE wake-up
 * timer, armed for the earliest due lane, starts polls on time (no timer per mount). Lanes that
 * are due together when first seen (never polled, or overdue after a restart) are spread over
 * `min(period, n × firstPollSpacingMs)` instead of all starting in the same instant.
 * Clock, randomness and the wake-up timer are injected; all state lives in the scheduler instance.
 */
import type { Logger } from '../logging.js';
import type { Ticker } from './cron-ticker.js';

/** The reason the scheduler gives a poll it starts because the mount's period is up. */
export const PERIODIC = 'periodic';

/** What the scheduler needs from a mount. */
export interface PollTarget {
  /** Seconds between periodic polls, or undefined when the mount is not configured. */
  pollPeriodSeconds(): Promise<number | undefined>;
  /** When the last poll happened (persisted), so a restart does not poll everything at once. */
  lastPollAt(): Promise<Date | undefined>;
  /** Run one poll to its end (a thrown error is logged and does not stop the lane). */
  poll(reason: string): Promise<unknown>;
  /** The scheduler stopped, its polls ended: write what the target keeps in memory. */
  stop?(): Promise<void>;
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
  /** Average gap between first polls of lanes seen due together (default 50 ms: ~20/s). */
  readonly firstPollSpacingMs?: number;
  /** The one wake-up timer (default: an unref'd setTimeout); armed only after `start()`. */
  readonly timer?: WakeTimer;
  /**
   * Called when a periodic poll starts, with how late it is (ms past its due time, ≥ 0) and
   * whether the lane's previous poll was still running at the due time (single-flight: such a
   * poll can only start once that one ended).
   */
  readonly onPeriodicStart?: (mount: string, latenessMs: number, overran: boolean) => void;
}

/** A single-shot timer (injectable so tests control time). */
export interface WakeTimer {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

const realTimer: WakeTimer = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's largest delay is 2^31-1 ms; the tick re-arms long before that anyway. */
const MAX_WAKE_DELAY_MS = 3_600_000;

/** The scheduler of all mounts. */
export interface Scheduler {
  start(): void;
  /** Stop ticking, drop pending follow-ups, wait for running polls, then stop the targets. */
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
  /** A first poll spread away from the crowd: not due before this (ms since epoch). */
  notBefore: number | undefined;
  /** When the lane's last poll ended (ms since epoch). */
  idleSince: number | undefined;
}

/** Create a scheduler; call `start()` to begin ticking. */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const now = opts.now ?? (() => new Date());
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0.1;
  const spacingMs = opts.firstPollSpacingMs ?? 50;
  const timer = opts.timer ?? realTimer;
  const lanes = new Map<string, Lane>();
  let ticking: Promise<void> | undefined;
  let stopped = false;
  let started = false;
  let wake: { handle: unknown; at: number } | undefined;

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
        notBefore: undefined,
        idleSince: undefined,
      };
      lanes.set(mount, l);
    }
    return l;
  };

  /** When the lane's next periodic poll is due (ms), undefined when not configured. */
  const dueMs = (l: Lane): number | undefined => {
    if (l.periodSeconds === undefined) return undefined;
    const periodic =
      l.lastPollAt === undefined
        ? now().getTime()
        : l.lastPollAt.getTime() + l.periodSeconds * 1000 * l.factor;
    return l.notBefore === undefined ? periodic : Math.max(periodic, l.notBefore);
  };
  const dueAt = (l: Lane): Date | undefined => {
    const ms = dueMs(l);
    return ms === undefined ? undefined : new Date(ms);
  };

  const run = (mount: string, l: Lane, reason: string): void => {
    if (reason === PERIODIC && opts.onPeriodicStart) {
      const due = dueMs(l);
      if (due !== undefined) {
        const overran = l.idleSince !== undefined && l.idleSince > due;
        opts.onPeriodicStart(mount, Math.max(0, now().getTime() - due), overran);
      }
    }
    l.running = (async () => {
      let next: string | undefined = reason;
      while (next !== undefined && !stopped) {
        l.followUp = undefined;
        l.notBefore = undefined;
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
      l.idleSince = now().getTime();
      armFor(l);
    });
  };

  /** The lane's due time when the wake-up timer should care about it, else Infinity. */
  const wakeDue = (l: Lane): number =>
    l.running || !l.seeded || !l.periodSeconds ? Infinity : (dueMs(l) ?? Infinity);

  /** Point the one wake-up timer at `at` (ms since epoch; Infinity: none). */
  const setWake = (at: number): void => {
    if (wake) timer.clear(wake.handle);
    wake = undefined;
    if (at === Infinity) return;
    const delay = Math.min(Math.max(0, at - now().getTime()), MAX_WAKE_DELAY_MS);
    wake = { handle: timer.set(runDue, delay), at };
  };

  /**
   * Start the periodic polls of idle lanes that are due (periods as of the last tick) and, in the
   * same pass, re-arm the wake-up timer for the earliest of the rest.
   */
  const runDue = (): void => {
    wake = undefined;
    if (stopped) return;
    const t = now().getTime();
    const targets = opts.targets();
    let earliest = Infinity;
    for (const [mount, l] of lanes) {
      const due = wakeDue(l);
      if (due === Infinity) continue;
      if (t < due) earliest = Math.min(earliest, due);
      // A lane that is no longer a target (its lease went to another replica) is passed over,
      // and does not hold the timer at 0 ms either.
      else if (targets.has(mount)) run(mount, l, PERIODIC);
    }
    if (started) setWake(earliest);
  };

  /**
   * (Re)arm the one wake-up timer for the earliest due idle lane. Lanes with period 0 are left
   * to the tick ("poll at every tick"), unseeded ones to the tick that first reads them.
   * Scans every lane: used after a tick and at start; a lane that went idle uses `armFor`.
   */
  const arm = (): void => {
    if (!started || stopped) return;
    let earliest = Infinity;
    for (const l of lanes.values()) {
      const due = wakeDue(l);
      if (due < earliest) earliest = due;
    }
    if (wake && wake.at <= earliest) return;
    setWake(earliest);
  };

  /**
   * A lane went idle: the timer, armed for the earliest of the other idle lanes (every path that
   * changes them re-arms), only needs to move when this lane is due sooner. O(1) per poll,
   * instead of a scan of every lane at the end of every poll.
   */
  const armFor = (l: Lane): void => {
    if (!started || stopped) return;
    const due = wakeDue(l);
    if (due === Infinity || (wake && wake.at <= due)) return;
    setWake(due);
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

  /** Spread the first polls of lanes that were all due when first seen (see the file doc). */
  const spreadFirstPolls = (crowd: readonly (readonly [string, Lane])[]): void => {
    if (crowd.length < 2) return;
    const t = now().getTime();
    for (const [, l] of crowd) {
      const windowMs = Math.min((l.periodSeconds ?? 0) * 1000, crowd.length * spacingMs);
      if (windowMs > 0) l.notBefore = t + Math.floor(random() * windowMs);
    }
  };

  const tickOnce = async (): Promise<void> => {
    const crowd: (readonly [string, Lane])[] = [];
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
          const due = dueMs(l);
          if (period > 0 && due !== undefined && now().getTime() >= due) {
            crowd.push([mount, l]);
            continue;
          }
        }
      } catch (e) {
        opts.logger.warn({ mount, err: String(e) }, 'tick could not read the mount');
        continue;
      }
      const due = dueMs(l);
      if (!l.running && due !== undefined && now().getTime() >= due) run(mount, l, PERIODIC);
    }
    spreadFirstPolls(crowd);
    // A lone newcomer (or a spread one whose slot is now) starts at once.
    const targets = opts.targets();
    for (const [mount, l] of crowd) {
      if (l.running || !targets.has(mount)) continue;
      const due = dueMs(l);
      if (due !== undefined && now().getTime() >= due) run(mount, l, PERIODIC);
    }
    arm();
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
      started = true;
      opts.ticker.start(() => void tick());
      arm();
    },
    async stop() {
      stopped = true;
      started = false;
      if (wake) timer.clear(wake.handle);
      wake = undefined;
      opts.ticker.stop();
      for (const l of lanes.values()) l.followUp = undefined;
      await whenIdle();
      // E.g. a mount runtime's poll state kept in memory (write-behind) is written now.
      await Promise.allSettled([...opts.targets().values()].map((t) => t.stop?.()));
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
