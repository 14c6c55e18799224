/**
 * The poll state's write-behind (issue 16, bench 2): an up-to-date poll that changed nothing but
 * the time keeps its poll state in memory and a timer writes it a few seconds later; stopping
 * the runtime writes it at once; every poll that matters (a task created, a commit recorded, a
 * failure, the outcome changed) writes through; `status` in this process shows the memory.
 */
import { describe, expect, it, vi } from 'vitest';
import { mountScope, StorageKeys } from '../../src/config/stored.js';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { readPollState, type StoredPollState } from '../../src/pipeline/poll-state.js';
import { createScheduler, PERIODIC } from '../../src/scheduler/scheduler.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import {
  benchesPerTest,
  C2,
  C3,
  config,
  manualTimer,
  MOUNT,
  statusOf,
  world,
  type Bench,
} from './pipeline-fakes.js';

const open = benchesPerTest();
const POLL_STATE = `${mountScope(MOUNT)}${StorageKeys.pollState}`;

/** A store that counts writes of the mount's poll state and can fail task writes. */
function counting(): Store & { pollStateWrites: number; failTasks: boolean } {
  const inner = createMemoryStore();
  const s = {
    pollStateWrites: 0,
    failTasks: false,
    get: inner.get.bind(inner),
    list: (p: string) => inner.list(p),
    delete: (k: string) => inner.delete(k),
    put: (k: string, v: unknown, o?: Parameters<Store['put']>[2]) => {
      if (k === POLL_STATE) s.pollStateWrites++;
      if (s.failTasks && k.includes('/task/')) {
        return Promise.reject(new AppError('STORAGE_FAILED', 'cannot write the task'));
      }
      return inner.put(k, v, o);
    },
  };
  return s;
}

/** A runtime whose remote tip (C2) was processed already: every poll is up to date. */
async function upToDate() {
  const root = counting();
  const timer = manualTimer();
  const b = await open(world({ remote: { branch: C2 } }), {
    root,
    configure: config({ git_poll_period: 60, initial_last_successful_commit: C2 }),
    pollStateTimer: timer,
  });
  // The first poll has nothing to compare with: it writes through.
  expect(await b.runtime.poll(PERIODIC)).toBe('up-to-date');
  expect(root.pollStateWrites).toBe(1);
  const poll = async (): Promise<void> => {
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('up-to-date');
  };
  return { b, root, timer, poll };
}

const storedAt = async (b: Bench): Promise<string | undefined> =>
  (await readPollState(b.store))?.last_poll_at;

describe('poll state write-behind', () => {
  it('an unchanged up-to-date poll writes nothing until the timer flushes it', async () => {
    const { b, root, timer, poll } = await upToDate();
    const first = await storedAt(b);
    await poll();
    await poll();
    expect(root.pollStateWrites).toBe(1);
    expect(await storedAt(b)).toBe(first);
    // In memory it is the last poll's, and one flush is armed (not one per poll).
    expect(b.runtime.pollState()?.last_poll_at).toBe(b.now().toISOString());
    expect(timer.armed).toBe(1);

    expect(timer.fire()).toBe(1);
    await vi.waitFor(async () => expect(await storedAt(b)).toBe(b.now().toISOString()));
    expect(root.pollStateWrites).toBe(2);
    expect(await readPollState(b.store)).toEqual(b.runtime.pollState());
  });

  it('the scheduler stopping (service stop, plugin step-down) writes it at once', async () => {
    const { b, root, timer, poll } = await upToDate();
    await poll();
    const scheduler = createScheduler({
      targets: () => new Map([[MOUNT, b.runtime]]),
      ticker: { start: () => undefined, stop: () => undefined },
      logger: silentLogger(),
      now: b.now,
    });
    await scheduler.stop();
    expect(await storedAt(b)).toBe(b.now().toISOString());
    expect(root.pollStateWrites).toBe(2);
    // Nothing is left armed to write after the stop, and later polls write through.
    expect(timer.armed).toBe(0);
    await poll();
    expect(root.pollStateWrites).toBe(3);
    expect(await storedAt(b)).toBe(b.now().toISOString());
  });

  it('a poll that deploys (task created, commit recorded) writes through', async () => {
    const { b, root, timer, poll } = await upToDate();
    await poll();
    b.w.remote = { branch: C3 };
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('deployed');
    expect(root.pollStateWrites).toBe(2);
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'deployed',
      last_successful_commit: C3,
      last_poll_at: b.now().toISOString(),
    });
    // The pending flush was superseded: firing it writes nothing more.
    timer.fire();
    await b.runtime.stop();
    expect(root.pollStateWrites).toBe(2);
  });

  it('a failed poll writes through, and so does the up-to-date poll after it', async () => {
    const { b, root, poll } = await upToDate();
    await poll();
    b.w.remote = { branch: C3 };
    b.w.ensureImage = () => Promise.reject(new Error('the image cannot be pulled'));
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('failed');
    expect(root.pollStateWrites).toBe(2);
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('failed');
    // The same failure again still writes (a new task each time).
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('failed');
    expect(root.pollStateWrites).toBe(3);
    // Back to the processed tip: the outcome changed, so it is written at once.
    b.w.remote = { branch: C2 };
    await poll();
    expect(root.pollStateWrites).toBe(4);
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('up-to-date');
  });

  it('a poll that cannot record its task (unrecorded failure) writes through', async () => {
    const { b, root, poll } = await upToDate();
    await poll();
    b.w.remote = { branch: C3 };
    root.failTasks = true;
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('failed');
    expect(root.pollStateWrites).toBe(2);
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'failed',
      last_poll_at: b.now().toISOString(),
    });
    // The same failure again is written again, though only its time changed.
    const reason = (await readPollState(b.store))?.last_poll_reason;
    b.advance(60_000);
    expect(await b.runtime.poll(PERIODIC)).toBe('failed');
    expect((await readPollState(b.store))?.last_poll_reason).toBe(reason);
    expect(root.pollStateWrites).toBe(3);
  });

  it('status in this process shows the poll state in memory', async () => {
    const { b, poll } = await upToDate();
    const first = await storedAt(b);
    await poll();
    expect(await storedAt(b)).toBe(first);
    expect(await statusOf(b)).toMatchObject({
      last_poll_at: b.now().toISOString(),
      last_poll_outcome: 'up-to-date',
      remote_tip: C2,
    });
  });

  it('status shows a newer stored poll state (written by the next lease holder)', async () => {
    const { b, poll } = await upToDate();
    await poll();
    const mine = b.runtime.pollState() as StoredPollState;
    const theirs: StoredPollState = {
      ...mine,
      last_poll_at: new Date(b.now().getTime() + 1_000).toISOString(),
      last_poll_outcome: 'deployed',
    };
    await b.store.put(StorageKeys.pollState, theirs);
    expect(await statusOf(b)).toMatchObject({
      last_poll_at: theirs.last_poll_at,
      last_poll_outcome: 'deployed',
    });
  });

  it('a flush never overwrites a poll state someone else wrote meanwhile', async () => {
    const { b, timer, poll } = await upToDate();
    await poll();
    // Another replica took the lease and wrote; this one's timer fires late.
    const theirs: StoredPollState = {
      ...(b.runtime.pollState() as StoredPollState),
      last_poll_outcome: 'deployed',
      task: 'their-task',
    };
    await b.store.put(StorageKeys.pollState, theirs);
    timer.fire();
    await b.runtime.stop();
    expect(await readPollState(b.store)).toEqual(theirs);
  });

  it('a (re)started runtime drops what it kept: nothing is written for it later', async () => {
    const { b, root, timer, poll } = await upToDate();
    await poll();
    await b.runtime.start();
    expect(timer.armed).toBe(0);
    await b.runtime.stop();
    expect(root.pollStateWrites).toBe(1);
    expect(b.runtime.pollState()).toBeUndefined();
  });
});
