import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import {
  createReplicaCoordinator,
  type ReplicaCoordinator,
} from '../../src/replicas/coordinator.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';

function replica(store: Store, holder: string, clock: { t: number }) {
  const acquired: string[] = [];
  const polls: string[] = [];
  const c: ReplicaCoordinator = createReplicaCoordinator({
    store,
    mounts: ['a', 'b'],
    holder,
    ttlMs: 3000,
    onAcquire: async (m) => {
      acquired.push(m);
    },
    onPoll: (m, reason) => polls.push(`${m}:${reason}`),
    logger: silentLogger(),
    now: () => clock.t,
  });
  return { c, acquired, polls };
}

describe('replica coordinator', () => {
  it('exactly one replica holds each mount and starts its runtime once', async () => {
    const store = createMemoryStore();
    const clock = { t: 1_000_000 };
    const one = replica(store, 'one', clock);
    const two = replica(store, 'two', clock);
    await one.c.tick();
    await two.c.tick();
    expect(one.c.holds('a') && one.c.holds('b')).toBe(true);
    expect(two.c.holds('a') || two.c.holds('b')).toBe(false);
    await one.c.tick();
    expect(one.acquired).toEqual(['a', 'b']);
    expect(two.acquired).toEqual([]);
  });

  it('a poll request reaching a replica without the lease is picked up by the holder', async () => {
    const store = createMemoryStore();
    const clock = { t: 1_000_000 };
    const one = replica(store, 'one', clock);
    const two = replica(store, 'two', clock);
    await one.c.tick();
    await two.c.tick();
    two.c.requestPoll('a', 'webhook');
    await new Promise((r) => setTimeout(r, 10));
    expect(two.polls).toEqual([]);
    await one.c.tick();
    expect(one.polls).toEqual(['a:requested via another replica']);
    await one.c.tick();
    expect(one.polls).toHaveLength(1);
    one.c.requestPoll('b', 'api');
    expect(one.polls).toEqual(['a:requested via another replica', 'b:api']);
  });

  it('when the holder stops renewing, another replica takes over after the TTL and recovers', async () => {
    const store = createMemoryStore();
    const clock = { t: 1_000_000 };
    const one = replica(store, 'one', clock);
    const two = replica(store, 'two', clock);
    await one.c.tick();
    await two.c.tick();
    clock.t += 2000; // within the TTL: still one's
    await two.c.tick();
    expect(two.c.holds('a')).toBe(false);
    clock.t += 1500; // past one's expiry (it did not renew: it "died")
    await two.c.tick();
    expect(two.c.holds('a')).toBe(true);
    expect(two.acquired).toEqual(['a', 'b']);
    expect(one.c.holds('a')).toBe(false);
  });

  it('stop releases the leases so another replica takes over at once', async () => {
    const store = createMemoryStore();
    const clock = { t: 1_000_000 };
    const one = replica(store, 'one', clock);
    const two = replica(store, 'two', clock);
    await one.c.tick();
    await one.c.stop();
    await two.c.tick();
    expect(two.c.holds('a')).toBe(true);
  });
});
