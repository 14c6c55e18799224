/**
 * Several replicas sharing one store (Vault KV): for each mount exactly one replica — the holder
 * of the mount's lease — polls and runs. This coordinator keeps this replica's leases (taken and
 * renewed with check-and-set, see storage/lease.ts), starts a mount's runtime when its lease is
 * won (recovering tasks a dead holder left), and routes poll requests: the holder polls at once;
 * any other replica records a request in the store that the holder picks up within a second.
 */
import type { Logger } from '../logging.js';
import { createLease, type Lease } from '../storage/lease.js';
import { requestPoll as recordPollRequest, takePollRequest } from '../storage/poll-requests.js';
import type { Store } from '../storage/store.js';

/** What the coordinator drives. */
export interface ReplicaCoordinatorOptions {
  /** The service-level store shared by the replicas. */
  readonly store: Store;
  readonly mounts: readonly string[];
  /** This replica's unique identity. */
  readonly holder: string;
  readonly ttlMs: number;
  /** The lease of `mount` was won: recover and start its runtime. */
  readonly onAcquire: (mount: string) => Promise<void>;
  /** Poll `mount` now (this replica holds it). */
  readonly onPoll: (mount: string, reason: string) => void;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often poll requests of held mounts are checked (default 1 s). */
  readonly checkEveryMs?: number;
}

/** This replica's part in sharing the mounts. */
export interface ReplicaCoordinator {
  /** True while this replica holds `mount`'s lease. */
  holds(mount: string): boolean;
  /** Ask for a poll of `mount`, wherever its holder runs (PollRequester-compatible). */
  requestPoll(mount: string, reason: string): void;
  /** One round: renew or take leases that are due, hand poll requests to held mounts. */
  tick(): Promise<void>;
  start(): void;
  /** Stop ticking and give the leases up so another replica takes over at once. */
  stop(): Promise<void>;
}

interface MountLease {
  readonly lease: Lease;
  nextRenewAt: number;
  started: boolean;
}

/** Create the coordinator (nothing is written before the first tick). */
export function createReplicaCoordinator(opts: ReplicaCoordinatorOptions): ReplicaCoordinator {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'replicas', holder: opts.holder });
  const leases = new Map<string, MountLease>(
    opts.mounts.map((mount) => [
      mount,
      {
        lease: createLease({
          store: opts.store,
          mount,
          holder: opts.holder,
          ttlMs: opts.ttlMs,
          now,
        }),
        nextRenewAt: 0,
        started: false,
      },
    ]),
  );
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function tickMount(mount: string, m: MountLease): Promise<void> {
    if (now() >= m.nextRenewAt) {
      const had = m.lease.holds();
      const r = await m.lease.tick();
      m.nextRenewAt = now() + m.lease.renewEveryMs;
      if (r.error !== undefined) log.warn({ mount, err: String(r.error) }, 'lease store error');
      if (r.holds && !had) {
        log.info({ mount }, 'lease won');
        m.started = false;
      } else if (!r.holds && had) {
        log.warn({ mount }, 'lease lost');
        m.started = false;
      }
    }
    if (!m.lease.holds()) return;
    if (!m.started) {
      m.started = true;
      try {
        await opts.onAcquire(mount);
      } catch (e) {
        m.started = false;
        log.error({ mount, err: String(e) }, 'runtime could not start after winning the lease');
        return;
      }
    }
    try {
      if (await takePollRequest(opts.store, mount))
        opts.onPoll(mount, 'requested via another replica');
    } catch (e) {
      log.warn({ mount, err: String(e) }, 'poll requests could not be read');
    }
  }

  const coordinator: ReplicaCoordinator = {
    holds: (mount) => leases.get(mount)?.lease.holds() ?? false,

    requestPoll(mount, reason) {
      if (coordinator.holds(mount) && leases.get(mount)?.started) {
        opts.onPoll(mount, reason);
        return;
      }
      recordPollRequest(opts.store, mount, now()).catch((e: unknown) =>
        log.warn({ mount, err: String(e) }, 'poll request could not be recorded'),
      );
    },

    tick() {
      running ??= (async () => {
        for (const [mount, m] of leases) await tickMount(mount, m);
      })().finally(() => {
        running = undefined;
      });
      return running;
    },

    start() {
      void coordinator.tick();
      timer = setInterval(() => void coordinator.tick(), opts.checkEveryMs ?? 1000);
      timer.unref();
    },

    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      for (const [mount, m] of leases) {
        await m.lease.release().catch((e: unknown) => {
          log.warn({ mount, err: String(e) }, 'lease could not be released');
        });
      }
    },
  };
  return coordinator;
}
