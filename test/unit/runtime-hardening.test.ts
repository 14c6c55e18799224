/**
 * The runtime half of the hardening: a poll that cannot write its task (a full disk) says so in
 * `status` instead of showing the earlier outcome; after a kill between the record step and the
 * task's final write the task shows SUCCEEDED with the recorded commit, not CANCELED with none;
 * the default container settings reach the runner locked down.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTAINER_SETTINGS } from '../../src/config/mount-settings.js';
import { ContainerSettings } from '../../src/config/settings-schemas.js';
import { StorageKeys } from '../../src/config/stored.js';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { containerLimits } from '../../src/pipeline/steps-run.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import { createTaskManager } from '../../src/tasks/task-manager.js';
import { readTask } from '../../src/tasks/task-record.js';
import { benchesPerTest, C1, C2, C3, setLastCommit, statusOf, world } from './pipeline-fakes.js';

const open = benchesPerTest();

/** A store whose writes fail with ENOSPC while `full` is set. */
function fillableStore(): Store & { full: boolean } {
  const inner = createMemoryStore();
  const s = {
    full: false,
    get: inner.get.bind(inner),
    list: (p: string) => inner.list(p),
    delete: (k: string) => inner.delete(k),
    put: (k: string, v: unknown, o?: Parameters<Store['put']>[2]) => {
      if (s.full) {
        const cause = Object.assign(new Error('ENOSPC: no space left on device'), {
          code: 'ENOSPC',
        });
        return Promise.reject(new AppError('STORAGE_FAILED', `cannot write ${k}`, { cause }));
      }
      return inner.put(k, v, o);
    },
  };
  return s;
}

describe('a poll that cannot record its task', () => {
  it('shows as failed in status (not as the earlier up-to-date) until a poll records again', async () => {
    const root = fillableStore();
    const b = await open(world({ remote: { branch: C2 } }), { root });
    await setLastCommit(b.store, C2);
    expect(await b.runtime.poll('periodic')).toBe('up-to-date');
    expect(await statusOf(b)).toMatchObject({ last_poll_outcome: 'up-to-date' });

    b.w.remote = { branch: C3 };
    b.advance(60_000);
    root.full = true;
    expect(await b.runtime.poll('periodic')).toBe('failed');
    const shown = await statusOf(b);
    expect(shown).toMatchObject({
      last_poll_outcome: 'failed',
      last_poll_code: 'STORAGE_FAILED',
      last_poll_at: b.now().toISOString(),
    });
    expect(String(shown['last_poll_reason'])).toMatch(/could not record its task: cannot write/);

    root.full = false;
    b.advance(60_000);
    expect(await b.runtime.poll('periodic')).toBe('deployed');
    expect(await statusOf(b)).toMatchObject({
      last_poll_outcome: 'deployed',
      last_successful_commit: C3,
    });
    expect(b.runtime.unrecordedFailure()).toBeUndefined();
  });

  it('writes the failure to the poll state when only the task write fails', async () => {
    const inner = createMemoryStore();
    const root: Store = {
      ...inner,
      get: inner.get.bind(inner),
      list: (p) => inner.list(p),
      delete: (k) => inner.delete(k),
      put: (k, v, o) =>
        k.includes('/task/')
          ? Promise.reject(new AppError('STORAGE_FAILED', `cannot write ${k}`))
          : inner.put(k, v, o),
    };
    const b = await open(world({ remote: { branch: C2 } }), { root });
    await setLastCommit(b.store, C1);
    expect(await b.runtime.poll('periodic')).toBe('failed');
    const state = await b.store.get<Record<string, unknown>>(StorageKeys.pollState);
    expect(state?.value).toMatchObject({ last_poll_outcome: 'failed', task: '' });
  });
});

describe('recovering a task after a kill', () => {
  it('shows SUCCEEDED with the commit when the run recorded it before the kill', async () => {
    const store = createMemoryStore();
    let t = Date.parse('2024-01-01T00:00:00Z');
    const now = (): Date => new Date((t += 1000));
    const before = createTaskManager({ store, logger: silentLogger(), now });
    const task = await before.enqueue('periodic');
    const running = await before.start(task?.uuid ?? '');
    await running.recordCommit(C2);
    // The record step wrote the commit; the process died before the task's final write.
    await store.put(StorageKeys.lastSuccessfulCommit, { commit: C2, at: now().toISOString() });
    const after = createTaskManager({ store, logger: silentLogger(), now });
    expect(await after.recover()).toBe(1);
    expect(await readTask(store, task?.uuid ?? '')).toMatchObject({
      status: 'SUCCEEDED',
      reason_code: 'DEPLOYED',
      commit: C2,
    });
  });

  it('still cancels a run whose commit was not recorded (an older last commit)', async () => {
    const store = createMemoryStore();
    let t = Date.parse('2024-01-01T00:00:00Z');
    const now = (): Date => new Date((t += 1000));
    await store.put(StorageKeys.lastSuccessfulCommit, { commit: C1, at: now().toISOString() });
    const before = createTaskManager({ store, logger: silentLogger(), now });
    const task = await before.enqueue('periodic');
    const running = await before.start(task?.uuid ?? '');
    await running.recordCommit(C2);
    const after = createTaskManager({ store, logger: silentLogger(), now });
    await after.recover();
    expect(await readTask(store, task?.uuid ?? '')).toMatchObject({
      status: 'CANCELED',
      reason_code: 'SERVICE_RESTARTED',
      commit: C2,
    });
  });
});

describe('container settings', () => {
  it('default to the locked-down container', () => {
    expect(DEFAULT_CONTAINER_SETTINGS).toEqual({
      user: '',
      cap_add: [],
      read_only_root_fs: true,
      memory_limit: 1024 ** 3,
      pids_limit: 512,
      cpus: '0',
      tmp_size: 64 * 1024 ** 2,
    });
    expect(containerLimits(DEFAULT_CONTAINER_SETTINGS, '1000:1000')).toEqual({
      user: '1000:1000',
      capAdd: [],
      readOnlyRootFs: true,
      memoryBytes: 1024 ** 3,
      pidsLimit: 512,
      tmpBytes: 64 * 1024 ** 2,
    });
  });

  it('loosen exactly what is written (capability spelling normalised, 0 = no limit)', () => {
    const c = ContainerSettings.parse({
      user: 'deploy:deploy',
      cap_add: 'cap_net_bind_service, CHOWN, chown',
      read_only_root_fs: 'false',
      memory_limit: '0',
      pids_limit: '0',
      cpus: '1.5',
      tmp_size: '1g',
    });
    expect(containerLimits(c, '1000:1000')).toEqual({
      user: 'deploy:deploy',
      capAdd: ['NET_BIND_SERVICE', 'CHOWN'],
      readOnlyRootFs: false,
      nanoCpus: 1_500_000_000,
      tmpBytes: 1024 ** 3,
    });
  });

  it.each([
    [{ cap_add: 'MKNOD,FLY' }, 'cap_add: FLY is not a capability'],
    [{ user: 'a b' }, 'user: must be empty, uid[:gid] or name[:group]'],
    [{ memory_limit: '1m' }, 'memory_limit: must be at least 8388608 bytes (or 0)'],
    [{ memory_limit: 'lots' }, 'memory_limit: must be a size'],
    [{ pids_limit: -1 }, 'pids_limit: must be at least 0'],
    [{ cpus: 'x' }, 'cpus: must be a number of CPUs'],
  ])('refuse %j: %s', (input, rule) => {
    const r = ContainerSettings.safeParse(input);
    expect(r.success).toBe(false);
    const messages = r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages.join('\n')).toContain(rule);
  });
});
