/**
 * The plugin's per-mount guard (src/plugin/mount-lease.ts) over a memory store: the work starts
 * only with the lease, a standby whose writes fail never starts it, a dead process of the same
 * host is taken over at once while a live one (or one of another host) is waited for, a stop
 * releases the lease only when the work really stopped, and a holder that cannot renew stops.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { createMountGuard, holderId, type GuardedWork } from '../../src/plugin/mount-lease.js';
import { leaseKey, type LeaseRecord } from '../../src/storage/lease.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';

const KEY = leaseKey('plugin');

function work(quiet = true) {
  const calls: string[] = [];
  const w: GuardedWork = {
    async begin() {
      calls.push('begin');
    },
    async end(reason) {
      calls.push(`end:${reason}`);
      return quiet;
    },
  };
  return { calls, w };
}

/** A store whose writes fail as a standby's do. */
function readOnly(store: Store): Store {
  const refuse = () =>
    Promise.reject(
      new AppError('STORAGE_FAILED', 'storage Put: cannot write to readonly storage', {
        details: { readOnly: true },
      }),
    );
  return { ...store, put: refuse, delete: refuse };
}

const guardOf = (
  store: Store,
  holder: string,
  w: GuardedWork,
  alive: (pid: number) => boolean = () => true,
) =>
  createMountGuard({
    store,
    holder,
    ttlMs: 60_000,
    logger: silentLogger(),
    work: w,
    pidAlive: alive,
  });

describe('plugin mount guard', () => {
  it('starts the work with the lease and releases it after a quiet stop', async () => {
    const store = createMemoryStore();
    const { calls, w } = work();
    const g = guardOf(store, holderId('hostA', 10), w);
    await g.start();
    expect(calls).toEqual(['begin']);
    expect(g.running()).toBe(true);
    expect((await store.get<LeaseRecord>(KEY))?.value.holder).toBe('hostA:10');
    await g.stop('cleanup');
    expect(calls).toEqual(['begin', 'end:cleanup']);
    expect((await store.get<LeaseRecord>(KEY))?.value.expires).toBe(0);
  });

  it('keeps the lease after a stop whose work did not end in time (it expires by itself)', async () => {
    const store = createMemoryStore();
    const { w } = work(false);
    const g = guardOf(store, holderId('hostA', 10), w);
    await g.start();
    await g.stop('cleanup');
    expect((await store.get<LeaseRecord>(KEY))?.value.expires).toBeGreaterThan(Date.now());
  });

  it('never starts on a standby, whose storage refuses writes', async () => {
    const { calls, w } = work();
    const g = guardOf(readOnly(createMemoryStore()), holderId('hostA', 10), w);
    await g.start();
    await g.stop('cleanup');
    expect(calls).toEqual([]);
  });

  it('waits while a live holder (or one of another host) has the lease', async () => {
    const store = createMemoryStore();
    await guardOf(store, holderId('hostA', 10), work().w).start();
    const sameHostLive = work();
    await guardOf(store, holderId('hostA', 11), sameHostLive.w, () => true).start();
    const otherHost = work();
    await guardOf(store, holderId('hostB', 12), otherHost.w, () => false).start();
    expect(sameHostLive.calls).toEqual([]);
    expect(otherHost.calls).toEqual([]);
  });

  it('takes the lease at once from a process of this host that no longer runs', async () => {
    const store = createMemoryStore();
    await guardOf(store, holderId('hostA', 10), work().w).start();
    const next = work();
    const g = guardOf(store, holderId('hostA', 11), next.w, (pid) => pid !== 10);
    await g.start();
    expect(next.calls).toEqual(['begin']);
    expect((await store.get<LeaseRecord>(KEY))?.value.holder).toBe('hostA:11');
    await g.stop('cleanup');
  });

  it('stops the work when the lease is written by someone else', async () => {
    const store = createMemoryStore();
    const { calls, w } = work();
    const g = createMountGuard({
      store,
      holder: holderId('hostA', 10),
      ttlMs: 30,
      logger: silentLogger(),
      work: w,
    });
    await g.start();
    const cur = await store.get<LeaseRecord>(KEY);
    await store.put(
      KEY,
      { holder: 'hostB:1', expires: Date.now() + 60_000 },
      {
        cas: cur?.version ?? 0,
      },
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(calls[1]).toMatch(/^end:lease lost/);
    expect(g.running()).toBe(false);
    await g.stop('cleanup');
  });
});
