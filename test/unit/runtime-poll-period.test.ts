/**
 * The scheduler asks every mount for its poll period at every tick; the runtime answers a
 * configured period from memory and drops it when a configuration write is announced.
 */
import { describe, expect, it } from 'vitest';
import { mountSettings } from '../../src/config/mount-settings.js';
import { createSettingsEvents } from '../../src/config/settings-events.js';
import { mountScope, StorageKeys } from '../../src/config/stored.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore, type Store } from '../../src/storage/store.js';
import { benchesPerTest, config, MOUNT, world } from './pipeline-fakes.js';

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
