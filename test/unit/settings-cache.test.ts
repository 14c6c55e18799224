/**
 * The settings owner's read cache (src/config/mount-settings.ts, `cacheMaxAgeMs`): a long-lived
 * owner answers repeated reads from memory, and forgets a value as soon as a write is announced
 * on the settings hub, when it is older than the maximum age, or when told to.
 */
import { describe, expect, it } from 'vitest';
import { mountSettings } from '../../src/config/mount-settings.js';
import { createSettingsEvents } from '../../src/config/settings-events.js';
import { StorageKeys } from '../../src/config/stored.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import { validConfiguration } from '../helpers/settings.js';

/** A store that counts its reads (a fake of our own interface). */
function countingStore(): { store: Store; reads: () => number } {
  const inner = createMemoryStore();
  let reads = 0;
  const store: Store = {
    ...inner,
    get: (key) => {
      reads++;
      return inner.get(key);
    },
  };
  return { store, reads: () => reads };
}

const MOUNT = 'fg';

function setup(maxAgeMs: number, withHub = true) {
  const { store, reads } = countingStore();
  const events = createSettingsEvents();
  let clock = 1_000;
  const cached = mountSettings(store, {
    mount: MOUNT,
    ...(withHub ? { events } : {}),
    cacheMaxAgeMs: () => maxAgeMs,
    nowMs: () => clock,
  });
  // What an API request builds: a short-lived owner on the same store and hub.
  const other = mountSettings(store, { mount: MOUNT, events });
  return { store, reads, events, cached, other, tick: (ms: number) => (clock += ms) };
}

describe('settings read cache', () => {
  it('answers a repeated read within the maximum age from memory', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration());
    const first = await t.cached.configuration.get();
    const before = t.reads();
    t.tick(59_000);
    expect(await t.cached.configuration.get()).toEqual(first);
    expect(t.reads()).toBe(before);
  });

  it('caches the absence of a value too', async () => {
    const t = setup(60_000);
    expect(await t.cached.gitSshKey.get()).toBeUndefined();
    const before = t.reads();
    expect(await t.cached.gitSshKey.get()).toBeUndefined();
    expect(t.reads()).toBe(before);
  });

  it('reads again once the value is as old as the maximum age', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration());
    await t.cached.configuration.get();
    const before = t.reads();
    t.tick(60_000);
    await t.cached.configuration.get();
    expect(t.reads()).toBe(before + 1);
  });

  it('sees a write announced by another owner at once', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration({ git_branch_name: 'main' }));
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('main');
    await t.other.configuration.put(validConfiguration({ git_branch_name: 'release' }));
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('release');
    await t.other.configuration.delete();
    expect(await t.cached.configuration.get()).toBeUndefined();
  });

  it('ignores announcements about other mounts and other settings', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration());
    await t.cached.configuration.get();
    const before = t.reads();
    t.events.notify({ mount: 'another', setting: 'configuration' });
    t.events.notify({ mount: MOUNT, setting: 'git_credential' });
    await t.cached.configuration.get();
    expect(t.reads()).toBe(before);
  });

  it('does not see an unannounced write (another replica) until the maximum age', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration({ git_branch_name: 'main' }));
    await t.cached.configuration.get();
    const key = StorageKeys.configuration;
    await t.store.put(key, validConfiguration({ git_branch_name: 'release' }));
    t.tick(30_000);
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('main');
    t.tick(30_000);
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('release');
  });

  it('dropCache makes the next read go to the store', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration());
    await t.cached.configuration.get();
    await t.store.put(StorageKeys.configuration, validConfiguration({ git_branch_name: 'x' }));
    t.cached.dropCache();
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('x');
  });

  it('keeps nothing with a maximum age of 0, or without a settings hub', async () => {
    for (const t of [setup(0), setup(60_000, false)]) {
      await t.other.configuration.put(validConfiguration());
      await t.cached.configuration.get();
      const before = t.reads();
      await t.cached.configuration.get();
      expect(t.reads()).toBe(before + 1);
    }
  });

  it('does not keep a read that overlapped a write', async () => {
    const t = setup(60_000);
    await t.other.configuration.put(validConfiguration({ git_branch_name: 'main' }));
    const reading = t.cached.configuration.get();
    const writing = t.other.configuration.put(validConfiguration({ git_branch_name: 'release' }));
    await Promise.all([reading, writing]);
    expect((await t.cached.configuration.get())?.git_branch_name).toBe('release');
  });
});
