/**
 * One lease per mount, kept in the shared Store, so that among several replicas exactly one polls
 * and runs a mount's pipeline. The record `{holder, expires}` is only ever written with
 * check-and-set, so two contenders can never both win the same version; the holder renews it every
 * TTL/3, and when it stops renewing (crash, partition, storage outage) its own `holds()` turns
 * false at `expires` — the same instant another replica may take over.
 *
 * Replicas compare their own clocks with `expires`: keep them NTP-synced; a skew of more than
 * the TTL minus the renew interval could let two replicas believe they hold the lease.
 */
import { isAppError } from '../errors.js';
import type { Store } from './store.js';

/** The stored lease record; `expires` is ms since the epoch. */
export interface LeaseRecord {
  readonly holder: string;
  readonly expires: number;
}

/** Service-level key of a mount's lease (outside the mount's own scope). */
export function leaseKey(mount: string): string {
  return `lease/${mount}`;
}

/** Default lease lifetime. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

/** Options of one replica's lease on one mount. */
export interface LeaseOptions {
  /** The service-level store (not a mount scope). */
  readonly store: Store;
  readonly mount: string;
  /** This replica's identity, unique among replicas (e.g. hostname + pid + random). */
  readonly holder: string;
  /** Lifetime of a taken or renewed lease (default 15 s). */
  readonly ttlMs?: number;
  /** ms since the epoch (default Date.now). */
  readonly now?: () => number;
  /**
   * True when `holder` is known to be gone before its lease expires (a process of this same host
   * that no longer runs): its lease may be taken at once instead of after `expires`.
   */
  readonly isDead?: (holder: string) => boolean;
}

/** The outcome of one tick: whether we hold the lease now, and a storage error if there was one. */
export interface LeaseTick {
  readonly holds: boolean;
  /** Set when the store failed; `holds` then reflects the lease we still have until it expires. */
  readonly error?: unknown;
}

/** One replica's view of a mount's lease. */
export interface Lease {
  /** How often `tick()` should run (TTL/3): two renewals may fail before the lease expires. */
  readonly renewEveryMs: number;
  /** Take the lease when it is free, expired or already ours; false when another holds it. */
  tryAcquire(): Promise<boolean>;
  /** Extend our lease; false when we lost it (someone else wrote the record). */
  renew(): Promise<boolean>;
  /** Give the lease up at once (best effort: a lost lease is left alone). */
  release(): Promise<void>;
  /** True while we hold the lease and it has not expired by our clock. */
  holds(): boolean;
  /** Renew when holding, else try to acquire; never throws. Call every `renewEveryMs`. */
  tick(): Promise<LeaseTick>;
}

/** Create this replica's lease handle for one mount; nothing is written until it is used. */
export function createLease(opts: LeaseOptions): Lease {
  const ttl = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const now = opts.now ?? Date.now;
  const key = leaseKey(opts.mount);
  /** The version we last wrote and the expiry we wrote with it, while we believe we hold it. */
  let mine: { version: number; expires: number } | undefined;

  /** Write our record with check-and-set at `cas`; false when someone else got there first. */
  async function write(cas: number): Promise<boolean> {
    const expires = now() + ttl;
    try {
      const version = await opts.store.put(
        key,
        { holder: opts.holder, expires } satisfies LeaseRecord,
        { cas },
      );
      mine = { version, expires };
      return true;
    } catch (e) {
      if (isAppError(e, 'CONFLICT')) {
        mine = undefined;
        return false;
      }
      throw e;
    }
  }

  const lease: Lease = {
    renewEveryMs: Math.max(1, Math.floor(ttl / 3)),

    async tryAcquire() {
      const entry = await opts.store.get<LeaseRecord>(key);
      const rec = entry?.value;
      const live = rec !== undefined && !(opts.isDead?.(rec.holder) ?? false);
      if (rec && live && rec.holder !== opts.holder && now() < rec.expires) {
        mine = undefined;
        return false;
      }
      return write(entry?.version ?? 0);
    },

    async renew() {
      // Check-and-set on the version we wrote: any write by another replica in between wins.
      if (!mine) return false;
      return write(mine.version);
    },

    async release() {
      if (!mine) return;
      const cas = mine.version;
      mine = undefined;
      try {
        await opts.store.put(key, { holder: opts.holder, expires: 0 } satisfies LeaseRecord, {
          cas,
        });
      } catch (e) {
        if (!isAppError(e, 'CONFLICT')) throw e;
      }
    },

    holds() {
      return mine !== undefined && now() < mine.expires;
    },

    async tick() {
      try {
        if (mine && (await lease.renew())) return { holds: lease.holds() };
        return { holds: await lease.tryAcquire() };
      } catch (error) {
        return { holds: lease.holds(), error };
      }
    },
  };
  return lease;
}
