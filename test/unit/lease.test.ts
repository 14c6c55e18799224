/**
 * The per-mount lease over a memory store with an injected clock: taking, renewing, expiring,
 * taking over after the holder stops renewing, and never two holders at once.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createLease, leaseKey, type Lease, type LeaseRecord } from '../../src/storage/lease.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';

function bench(ttlMs = 15_000) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const store = createMemoryStore();
  const replica = (holder: string, s: Store = store) =>
    createLease({ store: s, mount: 'm1', holder, ttlMs, now: clock.now });
  return { clock, store, replica };
}

describe('lease', () => {
  it('is taken when free and stored as {holder, expires} at lease/<mount>', async () => {
    const { clock, store, replica } = bench();
    const a = replica('a');
    expect(a.holds()).toBe(false);
    expect(await a.tryAcquire()).toBe(true);
    expect(a.holds()).toBe(true);
    expect(leaseKey('m1')).toBe('lease/m1');
    expect((await store.get<LeaseRecord>('lease/m1'))?.value).toEqual({
      holder: 'a',
      expires: clock.now() + 15_000,
    });
  });

  it('renews every TTL/3 by default (15 s TTL → 5 s)', () => {
    const { store } = bench();
    expect(createLease({ store, mount: 'm', holder: 'a' }).renewEveryMs).toBe(5_000);
    expect(createLease({ store, mount: 'm', holder: 'a', ttlMs: 9_000 }).renewEveryMs).toBe(3_000);
  });

  it('is refused to a second replica while the holder renews', async () => {
    const { clock, replica } = bench();
    const a = replica('a');
    const b = replica('b');
    await a.tryAcquire();
    for (let i = 0; i < 6; i++) {
      clock.advance(a.renewEveryMs);
      expect((await a.tick()).holds).toBe(true);
      expect((await b.tick()).holds).toBe(false);
    }
  });

  it('expires when the holder stops renewing, and another replica takes over', async () => {
    const { clock, replica } = bench();
    const a = replica('a');
    const b = replica('b');
    await a.tryAcquire();
    clock.advance(14_999);
    expect(a.holds()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(a.holds()).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    // The old holder wakes up: its renewal loses the check-and-set and it stays out.
    expect(await a.renew()).toBe(false);
    expect((await a.tick()).holds).toBe(false);
    expect(b.holds()).toBe(true);
  });

  it('is free at once after release', async () => {
    const { replica } = bench();
    const a = replica('a');
    const b = replica('b');
    await a.tryAcquire();
    await a.release();
    expect(a.holds()).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    // Releasing a lease we lost leaves the new holder alone.
    await a.release();
    expect(b.holds()).toBe(true);
  });

  it('a replica restarted under the same holder name takes its own lease back', async () => {
    const { replica } = bench();
    await replica('a').tryAcquire();
    const again = replica('a');
    expect(await again.tryAcquire()).toBe(true);
    expect(await replica('b').tryAcquire()).toBe(false);
  });

  it('two contenders racing never both hold it, at any moment', async () => {
    const { clock, replica } = bench(3_000);
    const all: Lease[] = ['a', 'b', 'c'].map((h) => replica(h));
    const holders = new Set<number>();
    for (let step = 0; step < 60; step++) {
      // Replica n stops ticking ("dies") for steps 20n+10…20n+19 (7 s > TTL); the others go on.
      const ticking = all.filter((_, i) => !(step % 20 >= 10 && i === Math.floor(step / 20)));
      await Promise.all(ticking.map((l) => l.tick()));
      expect(all.filter((l) => l.holds()).length).toBeLessThanOrEqual(1);
      all.forEach((l, i) => l.holds() && holders.add(i));
      clock.advance(700);
      expect(all.filter((l) => l.holds()).length).toBeLessThanOrEqual(1);
    }
    expect(all.some((l) => l.holds())).toBe(true);
    // The pauses forced takeovers: the lease changed hands.
    expect(holders.size).toBeGreaterThanOrEqual(2);
  });

  it('keeps holding until expiry when the store fails, and reports the error', async () => {
    const { clock, store } = bench();
    let broken = false;
    const flaky: Store = {
      ...store,
      put: (k, v, o) =>
        broken ? Promise.reject(new AppError('STORAGE_FAILED', 'down')) : store.put(k, v, o),
      get: (k) => (broken ? Promise.reject(new AppError('STORAGE_FAILED', 'down')) : store.get(k)),
    };
    const a = createLease({ store: flaky, mount: 'm1', holder: 'a', now: clock.now });
    await a.tryAcquire();
    broken = true;
    clock.advance(5_000);
    const t = await a.tick();
    expect(t.holds).toBe(true);
    expect(t.error).toBeInstanceOf(AppError);
    clock.advance(10_000);
    expect((await a.tick()).holds).toBe(false);
    broken = false;
    expect((await a.tick()).holds).toBe(true);
  });
});
