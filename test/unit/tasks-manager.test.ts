import { afterEach, describe, expect, it } from 'vitest';
import type { TaskSettings } from '../../src/config/settings-schemas.js';
import { StorageKeys } from '../../src/config/stored.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import { createTaskManager } from '../../src/tasks/task-manager.js';
import { listTasks, readTask, type StoredTask } from '../../src/tasks/task-record.js';
import { bench, C2, world, type Bench } from './pipeline-fakes.js';

const benches: Bench[] = [];
afterEach(async () => {
  for (const b of benches.splice(0)) await b.cleanup();
});

/** A store that counts writes per key. */
function countingStore(inner: Store = createMemoryStore()): Store & { puts: Map<string, number> } {
  const puts = new Map<string, number>();
  return {
    puts,
    get: (k) => inner.get(k),
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
    put: (k, v, o) => {
      puts.set(k, (puts.get(k) ?? 0) + 1);
      return inner.put(k, v, o);
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('task manager', () => {
  it('adds no task while one is queued or running', async () => {
    const tasks = createTaskManager({ store: createMemoryStore(), logger: silentLogger() });
    const first = await tasks.enqueue('periodic');
    expect(first?.status).toBe('QUEUED');
    expect(await tasks.enqueue('webhook')).toBeUndefined();
    await tasks.start(first?.uuid ?? '');
    expect(await tasks.enqueue('api')).toBeUndefined();
    await tasks.finish(first?.uuid ?? '', {
      status: 'SUCCEEDED',
      reason: 'ok',
      reasonCode: 'DEPLOYED',
      commit: C2,
    });
    expect((await tasks.enqueue('api'))?.status).toBe('QUEUED');
  });

  it('marks tasks a previous process left QUEUED or RUNNING as CANCELED "service restarted"', async () => {
    const store = createMemoryStore();
    const before = createTaskManager({ store, logger: silentLogger() });
    const a = await before.enqueue('periodic');
    await before.start(a?.uuid ?? '');
    // The process dies here; a second one starts over the same store.
    const after = createTaskManager({ store, logger: silentLogger() });
    expect(await after.recover()).toBe(1);
    const t = await readTask(store, a?.uuid ?? '');
    expect(t).toMatchObject({
      status: 'CANCELED',
      reason: 'service restarted',
      reason_code: 'SERVICE_RESTARTED',
    });
    expect((await after.enqueue('periodic'))?.status).toBe('QUEUED');
  });

  it('says which process restarted when told (the plugin: "plugin restarted")', async () => {
    const store = createMemoryStore();
    const before = createTaskManager({ store, logger: silentLogger() });
    const a = await before.enqueue('periodic');
    await before.start(a?.uuid ?? '');
    const after = createTaskManager({ store, logger: silentLogger() });
    expect(await after.recover('plugin restarted')).toBe(1);
    expect(await readTask(store, a?.uuid ?? '')).toMatchObject({
      status: 'CANCELED',
      reason: 'plugin restarted',
    });
  });

  it('abortRunning aborts the running task with TASK_CANCELED and the reason; queued ones stay', async () => {
    const tasks = createTaskManager({ store: createMemoryStore(), logger: silentLogger() });
    expect(tasks.abortRunning('stopping')).toBe(0);
    const t = await tasks.enqueue('periodic');
    const running = await tasks.start(t?.uuid ?? '');
    expect(tasks.abortRunning('plugin stopped')).toBe(1);
    expect(running.signal.aborted).toBe(true);
    expect(running.signal.reason).toMatchObject({
      code: 'TASK_CANCELED',
      message: 'plugin stopped',
    });
  });

  it('keeps task_history_limit finished tasks and deletes the oldest with their logs', async () => {
    const store = createMemoryStore();
    const cfg: TaskSettings = { task_timeout: 60, task_history_limit: 3 };
    await store.put(StorageKeys.taskConfiguration, cfg);
    const tasks = createTaskManager({ store, logger: silentLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await tasks.enqueue('periodic');
      ids.push(t?.uuid ?? '');
      const r = await tasks.start(t?.uuid ?? '');
      r.log(`output ${i}\n`);
      await tasks.finish(r.uuid, {
        status: 'FAILED',
        reason: `run ${i}`,
        reasonCode: 'COMMAND_FAILED',
        commit: C2,
      });
    }
    expect((await listTasks(store)).map((t) => t.uuid)).toEqual(ids.slice(2));
    for (const gone of ids.slice(0, 2)) {
      expect(await store.get(StorageKeys.task(gone))).toBeUndefined();
      expect(await store.get(StorageKeys.taskLog(gone))).toBeUndefined();
    }
    expect(await store.get(StorageKeys.taskLog(ids[4] ?? ''))).toBeDefined();
  });

  it('lists completed tasks first, then running, then queued', async () => {
    const store = createMemoryStore();
    const at = (seq: number, status: StoredTask['status']): StoredTask => ({
      uuid: `00000000-0000-4000-8000-00000000000${seq}`,
      status,
      reason: '',
      reason_code: '',
      created: '2024-01-01T00:00:00.000Z',
      modified: '2024-01-01T00:00:00.000Z',
      commit: '',
      trigger: 'periodic',
      seq,
    });
    for (const t of [
      at(1, 'QUEUED'),
      at(2, 'RUNNING'),
      at(3, 'SUCCEEDED'),
      at(4, 'CANCELED'),
      at(5, 'FAILED'),
    ]) {
      await store.put(StorageKeys.task(t.uuid), t);
    }
    expect((await listTasks(store)).map((t) => t.status)).toEqual([
      'SUCCEEDED',
      'CANCELED',
      'FAILED',
      'RUNNING',
      'QUEUED',
    ]);
  });

  it('cancels a queued task at once and leaves a finished one as it is', async () => {
    const tasks = createTaskManager({ store: createMemoryStore(), logger: silentLogger() });
    const q = await tasks.enqueue('api');
    expect((await tasks.cancel(q?.uuid ?? '')).status).toBe('CANCELED');
    await expect(tasks.start(q?.uuid ?? '')).rejects.toMatchObject({ code: 'TASK_CANCELED' });
    expect((await tasks.cancel(q?.uuid ?? '')).status).toBe('CANCELED');
    await expect(tasks.cancel('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('writes the log in batches, not once per output chunk', async () => {
    const store = countingStore();
    const tasks = createTaskManager({ store, logger: silentLogger(), logFlushMs: 10_000 });
    const q = await tasks.enqueue('api');
    const r = await tasks.start(q?.uuid ?? '');
    for (let i = 0; i < 1000; i++) r.log(`line ${i}\n`);
    await tasks.finish(r.uuid, {
      status: 'SUCCEEDED',
      reason: 'ok',
      reasonCode: 'DEPLOYED',
      commit: C2,
    });
    // One empty log at enqueue, one write at the end.
    expect(store.puts.get(StorageKeys.taskLog(r.uuid))).toBe(2);
    const log = await store.get<{ text: string }>(StorageKeys.taskLog(r.uuid));
    expect(log?.value.text.split('\n')).toHaveLength(1001);
  });
});

describe('a task of a mount runtime', () => {
  it('is CANCELED when an operator cancels it while its commands run, and records nothing', async () => {
    const gate = deferred();
    const b = await bench(
      world({
        run: async (spec) => {
          gate.resolve();
          await new Promise<void>((resolve) =>
            spec.signal?.addEventListener('abort', () => resolve()),
          );
          return { outcome: 'canceled', commandIndex: 0 };
        },
      }),
    );
    benches.push(b);
    const polling = b.runtime.poll('api');
    await gate.promise;
    const [running] = await listTasks(b.store);
    expect(running?.status).toBe('RUNNING');
    await b.runtime.cancelTask(running?.uuid ?? '');
    await polling;
    const t = await readTask(b.store, running?.uuid ?? '');
    expect(t).toMatchObject({ status: 'CANCELED', reason_code: 'TASK_CANCELED' });
    expect(await b.store.get(StorageKeys.lastSuccessfulCommit)).toBeUndefined();
  });

  it('is CANCELED when canceled before its commands start (between steps)', async () => {
    const gate = deferred();
    const release = deferred();
    const w = world({
      ensureImage: async () => {
        gate.resolve();
        await release.promise;
      },
    });
    const b = await bench(w);
    benches.push(b);
    const polling = b.runtime.poll('api');
    await gate.promise;
    const [running] = await listTasks(b.store);
    await b.runtime.cancelTask(running?.uuid ?? '');
    release.resolve();
    await polling;
    expect((await readTask(b.store, running?.uuid ?? ''))?.status).toBe('CANCELED');
    expect(w.calls).not.toContain('run');
  });

  it('keeps the log of its commands, head and tail kept and the middle marked when over the bound', async () => {
    const b = await bench(
      world({
        run: async (spec) => {
          spec.onOutput('FIRST-LINE\n');
          for (let i = 0; i < 2000; i++) spec.onOutput(`middle ${i}\n`);
          spec.onOutput('LAST-LINE\n');
          return { outcome: 'succeeded' };
        },
      }),
      { logLimitChars: 1000 },
    );
    benches.push(b);
    await b.runtime.poll('api');
    const [t] = await listTasks(b.store);
    const log = await b.store.get<{ text: string; omitted: number }>(
      StorageKeys.taskLog(t?.uuid ?? ''),
    );
    const text = log?.value.text ?? '';
    expect(text.startsWith('[flant-gitops]')).toBe(true);
    expect(text).toContain('FIRST-LINE');
    expect(text.endsWith('LAST-LINE\n')).toBe(true);
    expect(text).toMatch(/\[\.\.\. \d+ characters omitted \.\.\.\]/);
    expect(log?.value.omitted).toBeGreaterThan(0);
    expect(text.length - `\n[... ${log?.value.omitted} characters omitted ...]\n`.length).toBe(
      1000,
    );
  });
});
