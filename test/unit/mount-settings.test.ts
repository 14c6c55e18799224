/**
 * The settings owner: one schema per stored shape, help derived from it, reads that check what
 * they read, and writes announced to subscribers.
 */
import { describe, expect, it } from 'vitest';
import { configurePath } from '../../src/api/configure.js';
import { apiPaths } from '../../src/api/paths.js';
import { fieldSpecs } from '../../src/config/fields.js';
import { DEFAULT_TASK_SETTINGS, mountSettings } from '../../src/config/mount-settings.js';
import { Configuration, VaultAccess } from '../../src/config/settings-schemas.js';
import { StorageKeys } from '../../src/config/stored.js';
import { isAppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { validConfiguration } from '../helpers/settings.js';

describe('schemas are the one source of field help and defaults', () => {
  it('git_poll_period defaults to 5m in the help and to 300 seconds in the value', () => {
    expect(fieldSpecs(Configuration)['git_poll_period']).toMatchObject({
      type: 'duration',
      default: '5m',
    });
    expect(configurePath.fields['git_poll_period']?.default).toBe('5m');
    const parsed = Configuration.parse({
      git_repo_url: 'https://git.example.test/r.git',
      docker_image: `sha256:${'a'.repeat(64)}`,
      commands: 'true',
    });
    expect(parsed.git_poll_period).toBe(300);
  });

  it('every field of every path has a type and a description', () => {
    for (const d of apiPaths) {
      for (const [name, spec] of Object.entries(d.fields)) {
        expect(spec.description, `${d.pattern} ${name}`).not.toBe('');
      }
    }
  });

  it('the service-set field of vault access is not an operator field', () => {
    expect(Object.keys(fieldSpecs(VaultAccess))).not.toContain('secret_id_issued_at');
  });
});

describe('the typed reader', () => {
  it('reads back what was written, and task settings default when never written', async () => {
    const settings = mountSettings(createMemoryStore());
    expect(await settings.configuration.get()).toBeUndefined();
    await settings.configuration.put(validConfiguration({ git_poll_period: 60 }));
    expect((await settings.configuration.get())?.git_poll_period).toBe(60);
    expect(await settings.effectiveTaskSettings()).toEqual(DEFAULT_TASK_SETTINGS);
    expect(DEFAULT_TASK_SETTINGS).toEqual({ task_timeout: 1800, task_history_limit: 10 });
  });

  it('refuses a stored value that no longer fits its schema, naming the field', async () => {
    const store = createMemoryStore();
    await store.put(StorageKeys.configuration, { ...validConfiguration(), docker_image: 'x:1' });
    const e = await mountSettings(store)
      .configuration.get()
      .catch((x: unknown) => x);
    expect(isAppError(e, 'NOT_CONFIGURED')).toBe(true);
    expect(String((e as Error).message)).toMatch(/docker_image: must be pinned/);
  });

  it('lists skip invalid items and keep the valid ones', async () => {
    const store = createMemoryStore();
    const settings = mountSettings(store, { logger: silentLogger() });
    await settings.trustedKeys.put('alice', { name: 'alice', public_key: 'KEY' });
    await store.put(StorageKeys.trustedKey('bob'), { name: 'bob' });
    expect(await settings.trustedKeys.names()).toEqual(['alice', 'bob']);
    expect((await settings.trustedKeys.all()).map((k) => k.name)).toEqual(['alice']);
  });
});
