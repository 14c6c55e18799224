import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import { createCronTicker, everySeconds, type Ticker } from '../../src/scheduler/cron-ticker.js';
import { createScheduler, type PollTarget } from '../../src/scheduler/scheduler.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');

/** A ticker that never ticks by itself: tests call `scheduler.tick()`. */
function manualTicker(): Ticker & { started: number; stopped: number } {
  const t = {
    started: 0,
    stopped: 0,
    start() {
      t.started++;
    },
    stop() {
      t.stopped++;
    },
  };
  return t;
}

/** A target that counts polls and overlapping polls; polls wait for `release` when gated. */
function target(period: number | undefined, lastPollAt?: Date) {
  const state = {
    period,
    polls: [] as string[],
    active: 0,
    maxActive: 0,
    gate: undefined as Promise<void> | undefined,
  };
  const t: PollTarget = {
    pollPeriodSeconds: async () => state.period,
    lastPollAt: async () => lastPollAt,
    async poll(reason) {
      state.polls.push(reason);
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      await state.gate;
      await new Promise((r) => setImmediate(r));
      state.active--;
    },
  };
  return { t, state };
}

function setup(targets: Record<string, PollTarget>, random = () => 0.5) {
  let now = T0;
  const ticker = manualTicker();
  const scheduler = createScheduler({
    targets: () => new Map(Object.entries(targets)),
    ticker,
    logger: silentLogger(),
    now: () => new Date(now),
    random,
  });
  return {
    scheduler,
    ticker,
    at: (seconds: number) => {
      now = T0 + seconds * 1000;
    },
  };
}

describe('periodic polls', () => {
  it.each([
    { random: 0, due: 90 },
    { random: 0.5, due: 100 },
    { random: 0.999999, due: 110 },
  ])(
    'with random=$random a 100 s period is due after $due s (±10 % jitter)',
    async ({ random, due }) => {
      const { t, state } = target(100, new Date(T0));
      const { scheduler, at } = setup({ m: t }, () => random);
      at(due - 1);
      await scheduler.tick();
      await scheduler.whenIdle();
      expect(state.polls).toEqual([]);
      at(due);
      await scheduler.tick();
      await scheduler.whenIdle();
      expect(state.polls).toEqual(['periodic']);
    },
  );

  it('stays within ±10 % of the period for any random value', async () => {
    for (const random of [0, 0.1, 0.25, 0.5, 0.75, 0.99]) {
      const { t } = target(1000, new Date(T0));
      const { scheduler } = setup({ m: t }, () => random);
      await scheduler.tick();
      const next = (scheduler.nextPollAt('m')?.getTime() ?? 0) - T0;
      expect(next).toBeGreaterThanOrEqual(900_000);
      expect(next).toBeLessThanOrEqual(1_100_000);
    }
  });

  it('polls a mount never polled before at the first tick, then waits for the period', async () => {
    const { t, state } = target(60);
    const { scheduler, at } = setup({ m: t });
    await scheduler.tick();
    await scheduler.whenIdle();
    at(30);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(state.polls).toEqual(['periodic']);
    at(60);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(state.polls).toEqual(['periodic', 'periodic']);
  });

  it('polls at every tick when git_poll_period is 0', async () => {
    const { t, state } = target(0, new Date(T0));
    const { scheduler } = setup({ m: t });
    for (let i = 0; i < 3; i++) {
      await scheduler.tick();
      await scheduler.whenIdle();
    }
    expect(state.polls).toHaveLength(3);
  });

  it('does nothing at a tick when the mount is not configured', async () => {
    const { t, state } = target(undefined);
    const { scheduler, at } = setup({ m: t });
    at(10_000);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(state.polls).toEqual([]);
    expect(scheduler.nextPollAt('m')).toBeUndefined();
  });
});

describe('the per-mount queue', () => {
  it('turns 200 requests within a second into at most two polls that never overlap', async () => {
    const { t, state } = target(300, new Date(T0));
    const { scheduler } = setup({ m: t });
    let release = (): void => undefined;
    state.gate = new Promise((r) => {
      release = r;
    });
    for (let i = 0; i < 200; i++) {
      scheduler.requestPoll('m', `webhook ${i}`);
      if (i % 20 === 0) await scheduler.tick();
      await Promise.resolve();
    }
    expect(scheduler.isBusy('m')).toBe(true);
    release();
    await scheduler.whenIdle();
    expect(state.polls).toEqual(['webhook 0', 'webhook 1']);
    expect(state.maxActive).toBe(1);
    expect(scheduler.isBusy('m')).toBe(false);
  });

  it('runs the polls of different mounts side by side', async () => {
    const a = target(300, new Date(T0));
    const b = target(300, new Date(T0));
    const { scheduler } = setup({ a: a.t, b: b.t });
    scheduler.requestPoll('a', 'api');
    scheduler.requestPoll('b', 'api');
    expect(scheduler.isBusy('a') && scheduler.isBusy('b')).toBe(true);
    await scheduler.whenIdle();
    expect([a.state.polls, b.state.polls]).toEqual([['api'], ['api']]);
  });

  it('ignores a request for an unknown mount', async () => {
    const { t, state } = target(300);
    const { scheduler } = setup({ m: t });
    scheduler.requestPoll('other', 'api');
    await scheduler.whenIdle();
    expect(scheduler.isBusy('other')).toBe(false);
    expect(state.polls).toEqual([]);
  });

  it('keeps serving after a poll throws', async () => {
    const { t, state } = target(300);
    const failing: PollTarget = {
      ...t,
      poll: async (r) => {
        state.polls.push(r);
        throw new Error('boom');
      },
    };
    const { scheduler } = setup({ m: failing });
    scheduler.requestPoll('m', 'first');
    await scheduler.whenIdle();
    scheduler.requestPoll('m', 'second');
    await scheduler.whenIdle();
    expect(state.polls).toEqual(['first', 'second']);
  });

  it('stops ticking, drops follow-ups and waits for the running poll on stop', async () => {
    const { t, state } = target(0);
    const { scheduler, ticker } = setup({ m: t });
    scheduler.start();
    expect(ticker.started).toBe(1);
    scheduler.requestPoll('m', 'first');
    scheduler.requestPoll('m', 'follow-up');
    await scheduler.stop();
    expect(ticker.stopped).toBe(1);
    expect(state.polls).toEqual(['first']);
    scheduler.requestPoll('m', 'after stop');
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(state.polls).toEqual(['first']);
  });
});

describe('the node-cron ticker', () => {
  it.each([
    { seconds: 1, expr: '*/1 * * * * *' },
    { seconds: 5, expr: '*/5 * * * * *' },
    { seconds: 60, expr: '0 * * * * *' },
  ])('ticks every $seconds s with "$expr"', ({ seconds, expr }) => {
    expect(everySeconds(seconds)).toBe(expr);
  });

  it.each([0, 7, 61, 1.5])('refuses a tick period of %s s that does not divide a minute', (s) => {
    expect(() => everySeconds(s)).toThrow(/divide 60/);
  });

  it('refuses an invalid cron expression', () => {
    expect(() => createCronTicker('not cron')).toThrow(/invalid cron expression/);
  });

  it('calls back on its schedule until stopped', async () => {
    const ticker = createCronTicker(everySeconds(1));
    let ticks = 0;
    try {
      // Two callbacks: it keeps calling on its schedule, not once.
      await new Promise<void>((resolve) => {
        ticker.start(() => {
          ticks++;
          if (ticks === 2) resolve();
        });
      });
    } finally {
      ticker.stop();
    }
    const atStop = ticks;
    expect(atStop).toBeGreaterThanOrEqual(2);
    // Two and a half periods later, a stopped ticker has not called again.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(ticks).toBe(atStop);
  });
});

/** A wake-up timer the test fires by hand; records how many are pending. */
function manualTimer() {
  const pending = new Map<number, { callback: () => void; delayMs: number }>();
  let next = 0;
  return {
    pending,
    set(callback: () => void, delayMs: number) {
      pending.set(++next, { callback, delayMs });
      return next;
    },
    clear(handle: unknown) {
      pending.delete(handle as number);
    },
    fire() {
      const all = [...pending.values()];
      pending.clear();
      for (const p of all) p.callback();
    },
  };
}

describe('many mounts', () => {
  function many(n: number, lastPollAt?: (i: number) => Date | undefined) {
    const targets: Record<string, ReturnType<typeof target>> = {};
    for (let i = 0; i < n; i++) targets[`m${i}`] = target(60, lastPollAt?.(i));
    let now = T0;
    let r = 0;
    const timer = manualTimer();
    const late: number[] = [];
    const map = new Map(Object.entries(targets).map(([k, v]) => [k, v.t]));
    const scheduler = createScheduler({
      targets: () => map,
      ticker: manualTicker(),
      logger: silentLogger(),
      now: () => new Date(now),
      // 0, 1/n, 2/n, … : the jitter rolls and the spread offsets cover their range evenly.
      random: () => (r++ % n) / n,
      timer,
      onPeriodicStart: (_m, ms) => late.push(ms),
    });
    const polled = () => Object.values(targets).filter((t) => t.state.polls.length > 0).length;
    return { scheduler, timer, late, polled, map, targets, at: (ms: number) => (now = T0 + ms) };
  }

  it('spreads 100 never-polled mounts over 100 × 50 ms instead of starting them together', async () => {
    const { scheduler, polled, at } = many(100);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(polled()).toBeLessThan(5);
    const due = [...Array(100).keys()].map(
      (i) => (scheduler.nextPollAt(`m${i}`)?.getTime() ?? 0) - T0,
    );
    // The few polled at once are next due after a period; the others within 5 s.
    expect(due.filter((d) => d < 5000)).toHaveLength(100 - polled());
    at(2500);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(polled()).toBeGreaterThan(40);
    expect(polled()).toBeLessThan(60);
    at(5000);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(polled()).toBe(100);
  });

  it('spreads overdue mounts after a restart over at most one period', async () => {
    const { scheduler, polled, at } = many(5000, () => new Date(T0 - 3_600_000));
    await scheduler.tick();
    await scheduler.whenIdle();
    const due = [...Array(5000).keys()].map(
      (i) => (scheduler.nextPollAt(`m${i}`)?.getTime() ?? 0) - T0,
    );
    expect(Math.max(...due)).toBeLessThan(60_000);
    expect(Math.max(...due)).toBeGreaterThan(50_000);
    at(60_000);
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(polled()).toBe(5000);
  });

  it('keeps one wake-up timer for all mounts and starts due polls with it between ticks', async () => {
    const { scheduler, timer, late, polled, at } = many(1000, (i) => new Date(T0 - i * 60));
    scheduler.start();
    await scheduler.tick();
    await scheduler.whenIdle();
    expect(timer.pending.size).toBe(1);
    const first = [...timer.pending.values()][0];
    // m999 polled 59.94 s before T0 with factor 0.9 is the earliest: due at 54 s - 59.94 s → now.
    expect(first?.delayMs).toBeGreaterThanOrEqual(0);
    const before = polled();
    at(60_000);
    timer.fire();
    await scheduler.whenIdle();
    expect(polled()).toBeGreaterThan(before);
    expect(timer.pending.size).toBe(1);
    expect(late.length).toBe(polled());
    expect(late.every((ms) => ms >= 0)).toBe(true);
    await scheduler.stop();
    expect(timer.pending.size).toBe(0);
  });

  it('does not spin the wake-up timer on an overdue mount that is no longer a target', async () => {
    // With replicas a mount whose lease went to another holder stays a lane but is not a target:
    // its past due time must not re-arm the timer at 0 ms, wake after wake.
    const { scheduler, timer, map, targets, at } = many(2, () => new Date(T0));
    scheduler.start();
    await scheduler.tick();
    map.delete('m0');
    at(120_000);
    timer.fire();
    await scheduler.whenIdle();
    expect(targets['m1']?.state.polls).toEqual(['periodic']);
    expect(targets['m0']?.state.polls).toEqual([]);
    expect(timer.pending.size).toBe(1);
    expect([...timer.pending.values()][0]?.delayMs).toBeGreaterThan(50_000);
    await scheduler.stop();
  });

  it('re-arms in O(1) when a poll ends: the timer moves only for a lane due sooner', async () => {
    const { scheduler, timer, at } = many(3, (i) => new Date(T0 + i * 10_000));
    scheduler.start();
    await scheduler.tick();
    // m0 (due first) polls; m1 and m2 stay idle: when m0 ends, the timer points at m1.
    const dueOf = (m: string) => scheduler.nextPollAt(m)?.getTime() ?? 0;
    const d0 = dueOf('m0');
    const d1 = dueOf('m1');
    expect(d0).toBeLessThan(d1);
    expect(d1).toBeLessThan(dueOf('m2'));
    at(d0 - T0);
    timer.fire();
    await scheduler.whenIdle();
    expect(dueOf('m0')).toBeGreaterThan(d1);
    expect(timer.pending.size).toBe(1);
    expect([...timer.pending.values()][0]?.delayMs).toBe(d1 - d0);
    await scheduler.stop();
  });

  it('reports how late a periodic poll starts', async () => {
    const { scheduler, timer, late, at } = many(1, () => new Date(T0));
    scheduler.start();
    await scheduler.tick();
    const due = (scheduler.nextPollAt('m0')?.getTime() ?? 0) - T0;
    at(due + 250);
    timer.fire();
    await scheduler.whenIdle();
    expect(late).toEqual([250]);
    await scheduler.stop();
  });
});
