/**
 * The scheduler asks every mount for its poll period at every tick; the runtime answers it from
 * the settings owner's read cache (one cache for the polls and the period): dropped when a
 * configuration write is announced, aged out after one poll period (a write by another replica).
 */
import { describe, expect, it } from 'vitest';
import { mountSettings } from '../../src/config/mount-settings.js';
import { createSettingsEvents } from '../../src/config/settings-events.js';
import { mountScope, StorageKeys } from '../../src/config/stored.js';
import { PERIODIC } from '../../src/scheduler/scheduler.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore, type Store } from '../../src/storage/store.js';
import { benchesPerTest, C2, config, MOUNT, world } from './pipeline-fakes.js';

const open = benchesPerTest();

/** A store that counts reads of the mount's configuration. */
function counting(inner: Store): Store & { configReads: number } {
  const s = {
    configReads: 0,
    get: <T>(key: string) => {
      if (key.endsWith(StorageKeys.configuration)) s.configReads++;
      return inner.get<T>(key);
    },
    put: inner.put.bind(inner),
    delete: inner.delete.bind(inner),
    list: inner.list.bind(inner),
  };
  return s as Store & { configReads: number };
}

describe('poll period of a mount', () => {
  it('is read once for many ticks, and again after an announced configuration write', async () => {
    const root = counting(createMemoryStore());
    const scoped = scopedStore(root, mountScope(MOUNT));
    const events = createSettingsEvents();
    const { runtime } = await open(world(), {
      root,
      configure: config({ git_poll_period: 60 }),
      settingsEvents: events,
    });
    for (let i = 0; i < 100; i++) expect(await runtime.pollPeriodSeconds()).toBe(60);
    expect(root.configReads).toBe(1);

    // Written through the settings owner (as the API does): announced, so read again.
    await mountSettings(scoped, { mount: MOUNT, events }).configuration.put(
      config({ git_poll_period: 300 }),
    );
    expect(await runtime.pollPeriodSeconds()).toBe(300);
    expect(root.configReads).toBe(2);
  });

  it('sees a write by another replica (not announced here) within one poll period', async () => {
    const root = counting(createMemoryStore());
    const b = await open(world(), {
      root,
      configure: config({ git_poll_period: 60 }),
      settingsEvents: createSettingsEvents(),
    });
    expect(await b.runtime.pollPeriodSeconds()).toBe(60);
    // Written straight to the shared store, as another replica's API would.
    await b.store.put(StorageKeys.configuration, config({ git_poll_period: 300 }));
    b.advance(59_000);
    expect(await b.runtime.pollPeriodSeconds()).toBe(60);
    b.advance(1_000);
    expect(await b.runtime.pollPeriodSeconds()).toBe(300);
    expect(root.configReads).toBe(2);
  });

  it('as the sole writer (file store), keeps the period past one poll period until a write is announced', async () => {
    const root = counting(createMemoryStore());
    const scoped = scopedStore(root, mountScope(MOUNT));
    const events = createSettingsEvents();
    const b = await open(world(), {
      root,
      // The remote tip was processed: up-to-date polls.
      configure: config({ git_poll_period: 60, initial_last_successful_commit: C2 }),
      settingsEvents: events,
      soleWriter: true,
    });
    expect(await b.runtime.pollPeriodSeconds()).toBe(60);
    // No one else writes: an hour of ticks and periodic polls reads the store once.
    for (let i = 0; i < 60; i++) {
      b.advance(60_000);
      expect(await b.runtime.pollPeriodSeconds()).toBe(60);
      await b.runtime.poll(PERIODIC);
    }
    expect(root.configReads).toBe(1);
    // A write through the settings owner (the API) is announced: read again at once.
    await mountSettings(scoped, { mount: MOUNT, events }).configuration.put(
      config({ git_poll_period: 300 }),
    );
    expect(await b.runtime.pollPeriodSeconds()).toBe(300);
    expect(root.configReads).toBe(2);
  });

  it('shares its read with the poll: a periodic poll and the ticks after it read it once', async () => {
    const root = counting(createMemoryStore());
    const { runtime } = await open(world(), {
      root,
      // The remote tip was processed: an up-to-date poll (which reads only what it needs).
      configure: config({ git_poll_period: 60, initial_last_successful_commit: C2 }),
      settingsEvents: createSettingsEvents(),
    });
    await runtime.poll(PERIODIC);
    for (let i = 0; i < 10; i++) expect(await runtime.pollPeriodSeconds()).toBe(60);
    expect(root.configReads).toBe(1);
  });

  it('is not remembered while the mount is unconfigured', async () => {
    const root = counting(createMemoryStore());
    const { runtime } = await open(world(), { root, configure: false });
    expect(await runtime.pollPeriodSeconds()).toBeUndefined();
    await scopedStore(root, mountScope(MOUNT)).put(
      StorageKeys.configuration,
      config({ git_poll_period: 120 }),
    );
    expect(await runtime.pollPeriodSeconds()).toBe(120);
  });
});
