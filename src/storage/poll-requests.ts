/**
 * Hand-off of "poll now" between replicas. A webhook (or a manual poll) may reach a replica that
 * does not hold the mount's lease; that replica records a request in the shared Store, and the
 * holder, which checks the record on each tick with one cheap read, acknowledges it and polls
 * early. The record counts requests (`requested`) and acknowledgements (`handled`) instead of
 * being deleted, so a request is never lost: one made while the holder polls is still pending
 * afterwards, and a new holder after a takeover sees whatever the old one left unhandled.
 */
import { isAppError } from '../errors.js';
import { updateWithCas, type Store } from './store.js';

/** The stored record; `requested_at` is the ISO time of the latest request. */
export interface PollRequestRecord {
  readonly requested: number;
  readonly handled: number;
  readonly requested_at: string;
}

/** Service-level key of a mount's poll requests (outside the mount's own scope). */
export function pollRequestKey(mount: string): string {
  return `poll_request/${mount}`;
}

/**
 * Record that `mount` should be polled soon (by whichever replica holds its lease). Concurrent
 * requests are all counted (check-and-set with retries); returns the request count.
 */
export async function requestPoll(store: Store, mount: string, now: number): Promise<number> {
  const rec = await updateWithCas<PollRequestRecord>(
    store,
    pollRequestKey(mount),
    (cur) => ({
      requested: (cur?.requested ?? 0) + 1,
      handled: cur?.handled ?? 0,
      requested_at: new Date(now).toISOString(),
    }),
    20,
  );
  return rec.requested;
}

/**
 * For the lease holder: true when a request is pending, after marking it handled — the caller
 * must then poll. One read and no write when nothing is pending. A request that arrives during
 * the acknowledgement makes the check-and-set fail; we read again and still acknowledge.
 */
export async function takePollRequest(store: Store, mount: string, attempts = 5): Promise<boolean> {
  const key = pollRequestKey(mount);
  for (let i = 1; ; i++) {
    const entry = await store.get<PollRequestRecord>(key);
    if (!entry || entry.value.requested <= entry.value.handled) return false;
    try {
      await store.put(
        key,
        { ...entry.value, handled: entry.value.requested },
        { cas: entry.version },
      );
      return true;
    } catch (e) {
      if (!isAppError(e, 'CONFLICT') || i >= attempts) throw e;
    }
  }
}
