/**
 * De-duplication of deliveries by the sender's delivery id within a time window. Senders retry
 * and operators redeliver; a replay must not cause another poll. Bounded in memory: entries expire
 * after the window and the oldest are evicted beyond `maxEntries`, so a flood of distinct ids
 * cannot grow it without limit. Per receiver instance (not shared between replicas).
 */

/** Default window: 10 minutes. */
export const DEFAULT_DEDUPE_WINDOW_MS = 10 * 60 * 1000;
/** Default bound on remembered ids. */
export const DEFAULT_DEDUPE_MAX_ENTRIES = 100_000;

/** Remembers delivery ids for a while. */
export interface DeliveryDeduper {
  /** True the first time `key` is seen within the window (and remembers it); false for a replay. */
  firstSeen(key: string, now: Date): boolean;
  /** How many ids are remembered (for tests and metrics). */
  size(): number;
}

/** Create a deduper; `Map` keeps insertion order, so expiry and eviction scan from the front. */
export function createDeliveryDeduper(
  opts: { windowMs?: number; maxEntries?: number } = {},
): DeliveryDeduper {
  const windowMs = opts.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const maxEntries = opts.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES;
  const seen = new Map<string, number>();

  function prune(nowMs: number): void {
    for (const [key, expires] of seen) {
      if (expires > nowMs && seen.size < maxEntries) break;
      seen.delete(key);
    }
  }

  return {
    firstSeen(key, now) {
      const nowMs = now.getTime();
      prune(nowMs);
      const expires = seen.get(key);
      if (expires !== undefined && expires > nowMs) return false;
      seen.delete(key);
      seen.set(key, nowMs + windowMs);
      return true;
    },
    size: () => seen.size,
  };
}
