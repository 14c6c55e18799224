/**
 * The store work of an up-to-date poll (bench 2): a periodic poll reads its settings through the
 * settings owner's cache and the previous poll state from memory; any other poll, and a runtime
 * that (re)starts (start-up, a won lease), reads everything from the store again.
 */
import { describe, expect, it } from 'vitest';
import { createSettingsEvents } from '../../src/config/settings-events.js';
import { mountScope, StorageKeys } from '../../src/config/stored.js';
import { readPollState } from '../../src/pipeline/poll-state.js';
import { PERIODIC } from '../../src/scheduler/scheduler.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { type Store } from '../../src/storage/store.js';
import { benchesPerTest, C2, config, MOUNT, world } from './pipeline-fakes.js';

const open = benchesPerTest();

/** A store that records the keys it is asked to read (a fake of our own interface). */
function recording(inner: Store): Store & { reads: string[] } {
  const s = {
    reads: [] as string[],
    get: <T>(key: string) => {
      s.reads.push(key.slice(mountScope(MOUNT).length));
      return inner.get<T>(key);
    },
    put: inner.put.bind(inner),
    delete: inner.delete.bind(inner),
    list: inner.list.bind(inner),
  };
  return s as Store & { reads: string[] };
}

async function upToDateRuntime(period: number) {
  const root = recording(createMemoryStore());
  // The remote tip (C2) was processed already: every poll is up to date.
  const { store: scoped, runtime } = await open(world(), {
    root,
    configure: config({ git_poll_period: period, initial_last_successful_commit: C2 }),
    settingsEvents: createSettingsEvents(),
  });
  const pollReads = async (trigger: string): Promise<string[]> => {
    root.reads.length = 0;
    expect(await runtime.poll(trigger)).toBe('up-to-date');
    return [...root.reads];
  };
  return { root, scoped, runtime, pollReads };
}

const SETTINGS = [StorageKeys.configuration, StorageKeys.gitSshKey, StorageKeys.gitCredential];

describe('store work of an up-to-date poll', () => {
  it('a periodic poll after the first reads no settings and not the poll state', async () => {
    const t = await upToDateRuntime(60);
    const first = await t.pollReads(PERIODIC);
    expect(first).toEqual(expect.arrayContaining([...SETTINGS, StorageKeys.pollState]));
    const second = await t.pollReads(PERIODIC);
    for (const k of [...SETTINGS, StorageKeys.pollState]) expect(second).not.toContain(k);
    // Only the probe's read of the last successful commit is left.
    expect(second).toEqual([StorageKeys.lastSuccessfulCommit]);
    const state = await readPollState(t.scoped);
    expect(state?.last_poll_outcome).toBe('up-to-date');
    expect(state?.remote_tip).toBe(C2);
  });

  it('a requested poll (API, webhook, won lease) reads its settings again', async () => {
    const t = await upToDateRuntime(60);
    await t.pollReads(PERIODIC);
    const requested = await t.pollReads('api poll');
    expect(requested).toEqual(expect.arrayContaining(SETTINGS));
  });

  it('with a period of 0 (every tick) a periodic poll caches nothing', async () => {
    const t = await upToDateRuntime(0);
    await t.pollReads(PERIODIC);
    expect(await t.pollReads(PERIODIC)).toEqual(expect.arrayContaining(SETTINGS));
  });

  it('a (re)started runtime reads settings and poll state from the store again', async () => {
    const t = await upToDateRuntime(60);
    await t.pollReads(PERIODIC);
    await t.runtime.start();
    const after = await t.pollReads(PERIODIC);
    expect(after).toEqual(expect.arrayContaining([...SETTINGS]));
    // Another replica may have written it while this one did not hold the lease.
    expect(after).toContain(StorageKeys.pollState);
  });
});
