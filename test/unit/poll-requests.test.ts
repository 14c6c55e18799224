/**
 * Poll-request hand-off: a replica without the lease records a request; the holder sees it with
 * one read, acknowledges it and polls; no request is lost or handled twice.
 */
import { describe, expect, it } from 'vitest';
import { createLease } from '../../src/storage/lease.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import {
  pollRequestKey,
  requestPoll,
  takePollRequest,
  type PollRequestRecord,
} from '../../src/storage/poll-requests.js';
import type { Store } from '../../src/storage/store.js';

const T0 = Date.UTC(2024, 0, 1);

/** Count gets and puts to show that an idle check is one read. */
function counting(store: Store) {
  const calls = { get: 0, put: 0 };
  const s: Store = {
    ...store,
    get: (k) => (calls.get++, store.get(k)),
    put: (k, v, o) => (calls.put++, store.put(k, v, o)),
  };
  return { s, calls };
}

describe('poll requests', () => {
  it('nothing pending: one read, no write, no poll', async () => {
    const { s, calls } = counting(createMemoryStore());
    expect(await takePollRequest(s, 'm1')).toBe(false);
    expect(calls).toEqual({ get: 1, put: 0 });
  });

  it('a request is stored at poll_request/<mount> and taken exactly once', async () => {
    const store = createMemoryStore();
    expect(await requestPoll(store, 'm1', T0)).toBe(1);
    expect((await store.get<PollRequestRecord>(pollRequestKey('m1')))?.value).toEqual({
      requested: 1,
      handled: 0,
      requested_at: '2024-01-01T00:00:00.000Z',
    });
    expect(await takePollRequest(store, 'm1')).toBe(true);
    expect(await takePollRequest(store, 'm1')).toBe(false);
    expect(await takePollRequest(store, 'm2')).toBe(false);
  });

  it('many concurrent requests from other replicas lead to one early poll', async () => {
    const store = createMemoryStore();
    const counts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => requestPoll(store, 'm1', T0 + i)),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await takePollRequest(store, 'm1')).toBe(true);
    expect(await takePollRequest(store, 'm1')).toBe(false);
  });

  it('a request arriving while the holder polls leads to another poll', async () => {
    const store = createMemoryStore();
    await requestPoll(store, 'm1', T0);
    expect(await takePollRequest(store, 'm1')).toBe(true);
    await requestPoll(store, 'm1', T0 + 1);
    expect(await takePollRequest(store, 'm1')).toBe(true);
  });

  it('a webhook at the wrong replica reaches the lease holder on its next tick', async () => {
    const store = createMemoryStore();
    let t = T0;
    const now = () => t;
    const holder = createLease({ store, mount: 'm1', holder: 'a', now });
    const other = createLease({ store, mount: 'm1', holder: 'b', now });
    const polls: string[] = [];
    /** One scheduler tick of a replica: keep the lease, and poll when asked to. */
    async function tick(name: string, lease: typeof holder) {
      const { holds } = await lease.tick();
      if (holds && (await takePollRequest(store, 'm1'))) polls.push(name);
    }
    await tick('a', holder);
    await tick('b', other);
    // The webhook reaches b, which does not hold the lease: it records a request.
    expect(other.holds()).toBe(false);
    await requestPoll(store, 'm1', t);
    await tick('b', other);
    expect(polls).toEqual([]);
    t += holder.renewEveryMs;
    await tick('a', holder);
    expect(polls).toEqual(['a']);
    // A request left unhandled when the holder dies is taken by the next holder.
    await requestPoll(store, 'm1', t);
    t += 20_000;
    await tick('b', other);
    expect(polls).toEqual(['a', 'b']);
  });
});
