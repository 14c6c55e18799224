import { afterEach, describe, expect, it } from 'vitest';
import { lastSuccessfulCommitPath } from '../../src/api/last-successful-commit.js';
import { pollPath } from '../../src/api/poll.js';
import { statusPath } from '../../src/api/status.js';
import { taskListPath } from '../../src/api/task.js';
import { taskCancelPath } from '../../src/api/task-cancel.js';
import { taskConfigurePath } from '../../src/api/task-configure.js';
import { taskItemPath } from '../../src/api/task-item.js';
import { taskLogPath } from '../../src/api/task-log.js';
import type {
  ApiServices,
  Operation,
  PathContext,
  PathDescriptor,
  PathResponse,
} from '../../src/api/types.js';
import { StorageKeys } from '../../src/config/stored.js';
import type { Logger } from '../../src/logging.js';
import { createPipelineControl } from '../../src/pipeline/control.js';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';
import { listTasks } from '../../src/tasks/task-record.js';
import { bench, C1, C2, MOUNT, setLastCommit, world, type Bench } from './pipeline-fakes.js';

interface Logged {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

function capturingLogger(out: Logged[]): Logger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg: string): void => {
      out.push({ level, fields, msg });
    };
  const l: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => l,
  };
  return l;
}

const unusedServices = {
  keyInspector: { inspect: async () => Promise.reject(new Error('not used')) },
  vaultAccess: {
    configure: async () => Promise.reject(new Error('not used')),
    client: async () => Promise.reject(new Error('not used')),
  },
} satisfies ApiServices;

interface Api {
  readonly b: Bench;
  readonly scheduler: Scheduler;
  readonly logged: Logged[];
  call(
    d: PathDescriptor,
    op: Operation,
    path: string,
    data?: Record<string, unknown>,
  ): Promise<PathResponse>;
}

const benches: Bench[] = [];
afterEach(async () => {
  for (const b of benches.splice(0)) await b.cleanup();
});

async function api(opts: { withPipeline?: boolean } = {}): Promise<Api> {
  const b = await bench(world({ remote: { branch: C2 } }));
  benches.push(b);
  await b.runtime.start();
  const scheduler = createScheduler({
    targets: () => new Map([[MOUNT, b.runtime]]),
    ticker: { start: () => undefined, stop: () => undefined },
    logger: capturingLogger([]),
    now: b.now,
    random: () => 0.5,
  });
  const pipeline = createPipelineControl({
    scheduler,
    runtime: (m) => (m === MOUNT ? b.runtime : undefined),
  });
  const logged: Logged[] = [];
  const services: ApiServices =
    opts.withPipeline === false ? unusedServices : { ...unusedServices, pipeline };
  const ctx: PathContext = {
    store: b.store,
    services,
    logger: capturingLogger(logged),
    now: b.now,
  };
  return {
    b,
    scheduler,
    logged,
    async call(d, op, path, data = {}) {
      const m = new RegExp(`^(?:${d.pattern})$`).exec(path);
      expect(m, `${path} matches ${d.pattern}`).not.toBeNull();
      const handler = d.operations[op];
      if (!handler) throw new Error(`${op} not supported on ${path}`);
      return handler(
        { operation: op, mount: MOUNT, path, captures: { ...(m?.groups ?? {}) }, data },
        ctx,
      );
    },
  };
}

async function pollOnce(a: Api): Promise<string> {
  expect(await a.call(pollPath, 'update', 'poll')).toEqual({ data: { queued: true } });
  await a.scheduler.whenIdle();
  const [t] = await listTasks(a.b.store);
  return t?.uuid ?? '';
}

describe('poll and status', () => {
  it('poll queues a poll and returns queued=true; status then shows its outcome and the next poll', async () => {
    const a = await api();
    await setLastCommit(a.b.store, C1);
    const uuid = await pollOnce(a);
    const status = await a.call(statusPath, 'read', 'status');
    expect(status?.data).toMatchObject({
      configured: true,
      last_poll_outcome: 'deployed',
      remote_tip: C2,
      last_successful_commit: C2,
      running_task: null,
      queued_task: null,
      next_poll_at: new Date(a.b.now().getTime() + 300_000).toISOString(),
    });
    expect(uuid).not.toBe('');
  });

  it('status before any poll has nulls, not errors', async () => {
    const a = await api();
    expect((await a.call(statusPath, 'read', 'status'))?.data).toMatchObject({
      last_poll_at: null,
      remote_tip: null,
      last_successful_commit: null,
    });
  });

  it('poll answers INTERNAL when the pipeline is not wired', async () => {
    const a = await api({ withPipeline: false });
    await expect(a.call(pollPath, 'update', 'poll')).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('last_successful_commit', () => {
  it.each(['abc', 'A'.repeat(40), `${C2}0`, ''])('refuses commit=%j', async (commit) => {
    const a = await api();
    await expect(
      a.call(lastSuccessfulCommitPath, 'update', 'last_successful_commit', { commit }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('is set, read and cleared by an operator, each write logged as an operator action', async () => {
    const a = await api();
    await a.call(lastSuccessfulCommitPath, 'update', 'last_successful_commit', { commit: C1 });
    expect(
      (await a.call(lastSuccessfulCommitPath, 'read', 'last_successful_commit'))?.data,
    ).toMatchObject({ commit: C1 });
    await a.call(lastSuccessfulCommitPath, 'delete', 'last_successful_commit');
    await expect(
      a.call(lastSuccessfulCommitPath, 'read', 'last_successful_commit'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(a.logged.filter((l) => l.fields['operator_action'] === true).map((l) => l.msg)).toEqual([
      'last successful commit set',
      'last successful commit cleared',
    ]);
  });
});

describe('task/configure', () => {
  it('reads the defaults (30m, 10) before any write', async () => {
    const a = await api();
    expect((await a.call(taskConfigurePath, 'read', 'task/configure'))?.data).toEqual({
      task_timeout: 1800,
      task_history_limit: 10,
    });
  });

  it.each([
    { data: { task_timeout: '5m' }, want: { task_timeout: 300, task_history_limit: 10 } },
    {
      data: { task_timeout: 90, task_history_limit: '3' },
      want: { task_timeout: 90, task_history_limit: 3 },
    },
    { data: {}, want: { task_timeout: 1800, task_history_limit: 10 } },
  ])('stores $data as $want', async ({ data, want }) => {
    const a = await api();
    await a.call(taskConfigurePath, 'update', 'task/configure', data);
    expect((await a.b.store.get(StorageKeys.taskConfiguration))?.value).toEqual(want);
  });

  it.each([
    { task_timeout: 'soon' },
    { task_history_limit: -1 },
    { task_timeout: 0 },
    { extra: 1 },
  ])('refuses %j', async (data) => {
    const a = await api();
    await expect(a.call(taskConfigurePath, 'update', 'task/configure', data)).rejects.toMatchObject(
      {
        code: 'INVALID_INPUT',
      },
    );
  });
});

describe('task paths', () => {
  it('task lists ids with key_info; task/<uuid> reads one; unknown ones are NOT_FOUND', async () => {
    const a = await api();
    await expect(a.call(taskListPath, 'list', 'task')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const uuid = await pollOnce(a);
    const list = await a.call(taskListPath, 'list', 'task/');
    expect(list?.data['keys']).toEqual([uuid]);
    expect(list?.data['key_info']).toMatchObject({ [uuid]: { status: 'SUCCEEDED', commit: C2 } });
    expect((await a.call(taskItemPath, 'read', `task/${uuid}`))?.data).toMatchObject({
      uuid,
      status: 'SUCCEEDED',
      reason_code: 'DEPLOYED',
      commit: C2,
      trigger: 'api',
    });
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(a.call(taskItemPath, 'read', `task/${missing}`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(a.call(taskLogPath, 'read', `task/${missing}/log`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('task/<uuid> does not match task/configure', () => {
    expect(new RegExp(`^(?:${taskItemPath.pattern})$`).test('task/configure')).toBe(false);
  });

  it('task/<uuid>/log returns {result} sliced by offset and limit in characters', async () => {
    const a = await api();
    a.b.w.run = async (spec) => {
      spec.onOutput('x'.repeat(600));
      return { outcome: 'succeeded' };
    };
    const uuid = await pollOnce(a);
    const full = String(
      (await a.call(taskLogPath, 'read', `task/${uuid}/log`, { limit: 0 }))?.data['result'],
    );
    expect(full).toContain('x'.repeat(600));
    const byDefault = String(
      (await a.call(taskLogPath, 'read', `task/${uuid}/log`))?.data['result'],
    );
    expect(byDefault).toBe(full.slice(0, 500));
    const slice = (
      await a.call(taskLogPath, 'read', `task/${uuid}/log`, { offset: '5', limit: '7' })
    )?.data['result'];
    expect(slice).toBe(full.slice(5, 12));
    await expect(
      a.call(taskLogPath, 'read', `task/${uuid}/log`, { offset: -1 }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('task/<uuid>/cancel cancels a running task', async () => {
    const a = await api();
    let started = (): void => undefined;
    const running = new Promise<void>((r) => {
      started = r;
    });
    a.b.w.run = async (spec) => {
      started();
      await new Promise<void>((r) => spec.signal?.addEventListener('abort', () => r()));
      return { outcome: 'canceled', commandIndex: 0 };
    };
    await a.call(pollPath, 'update', 'poll');
    await running;
    const [t] = await listTasks(a.b.store);
    expect((await a.call(statusPath, 'read', 'status'))?.data['running_task']).toBe(t?.uuid);
    await a.call(taskCancelPath, 'update', `task/${t?.uuid}/cancel`);
    await a.scheduler.whenIdle();
    expect((await a.call(taskItemPath, 'read', `task/${t?.uuid}`))?.data['status']).toBe(
      'CANCELED',
    );
  });
});
