/**
 * Per-mount exclusivity of the plugin's background work across the nodes of an OpenBao cluster.
 *
 * OpenBao 2.7 initialises a mount's plugin on every unsealed node: read-enabled standbys run
 * Setup AND Initialize too (measured on the bench's 2.7.2), so "Initialize was called" does not
 * mean "this is the active node". And after a failover the dead node's run may still be going
 * (on another host) when the new active node initialises the mount. So the work runs only while
 * this process holds the mount's lease — the standalone replicas' lease (storage/lease.ts), kept
 * in the mount's own replicated storage:
 *  - a standby cannot write its storage, so it never wins the lease and never polls or runs;
 *  - the holder renews every TTL/3 and stops its run when it cannot renew before the TTL ends
 *    (a node cut off from the cluster), the moment another node may take over;
 *  - Cleanup (step-down, seal, unmount, reload) stops the run first and then releases the lease,
 *    so the next active node starts at once; after a kill -9 it waits until the lease expires;
 *  - a previous process of this same host that no longer runs (a plugin crash and respawn) is
 *    recognised as dead and its lease is taken at once.
 * Check-and-set on OpenBao's storage is not atomic across processes; it does not have to be:
 * only the active node can write at all, and the lease is about when a holder must stop.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../logging.js';
import { createLease, type Lease } from '../storage/lease.js';
import type { Store } from '../storage/store.js';

/** Default lease lifetime in the plugin: short, since a kill -9 costs up to this much extra. */
export const PLUGIN_LEASE_TTL_MS = 3_000;

/** What the guard starts and stops. */
export interface GuardedWork {
  /** The lease was won: recover what a previous holder left and start polling. */
  begin(): Promise<void>;
  /** The lease was lost or the mount is cleaned up: stop; true when nothing runs any more. */
  end(reason: string): Promise<boolean>;
}

/** The guard of one mount in one process. */
export interface MountGuard {
  /** Try once (Initialize waits for this), then keep trying in the background. */
  start(): Promise<void>;
  /** Stop the work, then release the lease if the work really stopped. */
  stop(reason: string): Promise<void>;
  /** True while the work runs here. */
  running(): boolean;
}

/** Options of the guard. */
export interface MountGuardOptions {
  /** The mount's own storage (the lease key sits at its root). */
  readonly store: Store;
  /** This process's identity, `<host id>:<pid>` (see holderId). */
  readonly holder: string;
  readonly ttlMs?: number;
  readonly logger: Logger;
  readonly work: GuardedWork;
  /** Whether a pid of this host runs (default: signal 0, zombies count as gone). */
  readonly pidAlive?: (pid: number) => boolean;
}

/** The lease key in the mount's storage. */
export const LEASE_NAME = 'plugin';

/** This process's holder id: a per-host id (the local data dir's) and the pid. */
export function holderId(hostId: string, pid = process.pid): string {
  return `${hostId}:${pid}`;
}

function defaultPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Create the guard; nothing is written before start(). */
export function createMountGuard(opts: MountGuardOptions): MountGuard {
  const log = opts.logger.child({ component: 'mount-lease' });
  const [hostId] = opts.holder.split(':');
  const pidAlive = opts.pidAlive ?? defaultPidAlive;
  const lease: Lease = createLease({
    store: opts.store,
    mount: LEASE_NAME,
    holder: opts.holder,
    ttlMs: opts.ttlMs ?? PLUGIN_LEASE_TTL_MS,
    isDead(other) {
      const [otherHost, pid] = other.split(':');
      return otherHost === hostId && other !== opts.holder && !pidAlive(Number(pid));
    },
  });
  let active = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let lastError = '';

  async function round(): Promise<void> {
    const r = await lease.tick();
    if (stopped) return;
    if (r.error !== undefined) {
      // On a standby every write fails: expected, logged once per distinct message.
      const msg = String(r.error);
      if (msg !== lastError) log.debug({ error: msg }, 'lease not writable');
      lastError = msg;
    } else {
      lastError = '';
    }
    if (r.holds && !active) {
      active = true;
      log.info({ holder: opts.holder }, 'lease won');
      try {
        await opts.work.begin();
      } catch (e) {
        active = false;
        await lease.release().catch(() => undefined);
        throw e;
      }
    } else if (!r.holds && active) {
      active = false;
      log.warn({ holder: opts.holder }, 'lease lost: stopping the run');
      await opts.work.end('lease lost (another node may run this mount)');
    }
  }

  const next = (): void => {
    loop ??= round()
      .catch((e: unknown) =>
        log.error({ error: e instanceof Error ? e.message : String(e) }, 'lease round failed'),
      )
      .finally(() => {
        loop = undefined;
      });
  };

  return {
    async start() {
      // The first round runs in Initialize, so a respawned process recovers before it answers.
      loop = round().finally(() => {
        loop = undefined;
      });
      await loop;
      if (stopped) return;
      timer = setInterval(next, lease.renewEveryMs);
      timer.unref();
    },
    async stop(reason) {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await loop?.catch(() => undefined);
      if (!active) return;
      active = false;
      const quiet = await opts.work.end(reason);
      // Release only when the run is really over; else the lease expires by itself.
      if (quiet) await lease.release().catch(() => undefined);
    },
    running: () => active,
  };
}
