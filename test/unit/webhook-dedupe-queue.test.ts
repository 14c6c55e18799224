/**
 * The de-dup memory keeps its oldest-first order in a queue beside its Map (src/webhook/dedupe.ts)
 * instead of scanning the Map from its start. Its answers must be those of the plain Map version
 * it replaced — kept here as the model — for any sequence: new keys, replays, expiry, eviction at
 * the cap, a key remembered again after it expired, a clock that goes back, and past the point
 * where the queue drops its popped front.
 */
import { describe, expect, it } from 'vitest';
import { createDeliveryDeduper, type DeliveryDeduper } from '../../src/webhook/dedupe.js';

/** The Map-only deduper (as it was before the queue): the model. */
function modelDeduper(windowMs: number, maxEntries: number): DeliveryDeduper {
  const seen = new Map<string, number>();
  return {
    firstSeen(key, now) {
      const nowMs = now.getTime();
      for (const [k, expires] of seen) {
        if (expires > nowMs && seen.size < maxEntries) break;
        seen.delete(k);
      }
      const expires = seen.get(key);
      if (expires !== undefined && expires > nowMs) return false;
      seen.delete(key);
      seen.set(key, nowMs + windowMs);
      return true;
    },
    size: () => seen.size,
  };
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('delivery de-duplication: the queue answers as the Map-only model', () => {
  it.each([
    { name: 'small cap, short window, clock mostly forward', seed: 1, max: 8, window: 50 },
    { name: 'cap never reached, expiry only', seed: 2, max: 10_000, window: 30 },
    { name: 'cap reached constantly, long window', seed: 3, max: 5, window: 1_000_000 },
    { name: 'clock jumping back and forth', seed: 4, max: 16, window: 40, jumpy: true },
  ])('$name', ({ seed, max, window, jumpy }) => {
    const rnd = prng(seed);
    const ours = createDeliveryDeduper({ windowMs: window, maxEntries: max });
    const model = modelDeduper(window, max);
    let now = 0;
    for (let i = 0; i < 20_000; i++) {
      now += jumpy === true ? Math.floor(rnd() * 21) - 8 : Math.floor(rnd() * 3);
      const key = `k${Math.floor(rnd() * max * 3)}`;
      const at = new Date(now);
      expect(ours.firstSeen(key, at), `step ${i}: ${key} at ${now}`).toBe(model.firstSeen(key, at));
      expect(ours.size()).toBe(model.size());
    }
  });

  it('evicts the oldest at the cap, past many drops of the popped front', () => {
    const d = createDeliveryDeduper({ windowMs: 1_000_000, maxEntries: 100 });
    const at = new Date(0);
    for (let i = 0; i < 50_000; i++) expect(d.firstSeen(`k${i}`, at)).toBe(true);
    expect(d.size()).toBe(100);
    // The last 99 are remembered (one slot is freed for the next key); older ones are not.
    expect(d.firstSeen('k49999', at)).toBe(false);
    expect(d.firstSeen('k49901', at)).toBe(false);
    expect(d.firstSeen('k49899', at)).toBe(true);
  });
});
