/**
 * The poll's step list starts with the probe (the one place that decides "up to date"), only the
 * probe runs before a task exists (reading the last commit while its ls-remote runs), and `poll()`
 * returns the outcome the summariser recorded.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { RemoteRefs } from '../../src/git/types.js';
import { readPollState } from '../../src/pipeline/poll-state.js';
import type { PipelineDeps, RunInput, RunState } from '../../src/pipeline/run-context.js';
import { PIPELINE_STEPS } from '../../src/pipeline/pipeline.js';
import { probeRemote } from '../../src/pipeline/steps-git.js';
import { readTaskLogText } from '../../src/tasks/task-log.js';
import type { Store } from '../../src/storage/store.js';
import { listTasks } from '../../src/tasks/task-record.js';
import { benchesPerTest, C2, C3, config, world } from './pipeline-fakes.js';

const open = benchesPerTest();

describe('the step list', () => {
  it('starts with the probe, the only step that runs before a task exists', () => {
    expect(PIPELINE_STEPS[0]).toBe(probeRemote);
    expect(PIPELINE_STEPS.filter((s) => s.beforeTask === true)).toEqual([probeRemote]);
    expect(PIPELINE_STEPS.map((s) => s.name)).toEqual([
      'probe-remote',
      'fetch',
      'check-ancestry',
      'check-signatures',
      'ensure-image',
      'vault-requests',
      'run-commands',
      'record',
    ]);
  });
});

describe('poll() says how it ended', () => {
  it('deployed, then up to date (no task), then failed, each as the poll state records it', async () => {
    const b = await open(world());
    expect(await b.runtime.poll('test')).toBe('deployed');
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('deployed');
    expect(await b.runtime.poll('test')).toBe('up-to-date');
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('up-to-date');
    expect(await listTasks(b.store)).toHaveLength(1);
    b.w.remote = { branch: C3 };
    b.w.run = async () => ({ outcome: 'failed', commandIndex: 0, exitCode: 3 });
    expect(await b.runtime.poll('test')).toBe('failed');
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('failed');
  });

  it('skipped when the mount is not configured: nothing recorded', async () => {
    const b = await open(world(), { configure: false });
    expect(await b.runtime.poll('test')).toBe('skipped');
    expect(await readPollState(b.store)).toBeUndefined();
  });

  it('a failing probe still gets a task that says why, with the probe in its log', async () => {
    const b = await open(world({ remote: {} }), { configure: config() });
    expect(await b.runtime.poll('test')).toBe('failed');
    const [task] = await listTasks(b.store);
    expect(task?.reason_code).toBe('GIT_NOT_FOUND');
    expect(await readTaskLogText(b.store, task?.uuid ?? '')).toContain(
      'probe-remote failed: branch main does not exist on the remote',
    );
    expect(b.w.calls).toEqual(['lsRemote']);
  });

  it('an unchanged tip asks the remote once and touches nothing else', async () => {
    const b = await open(world());
    await b.runtime.poll('test');
    b.w.calls.length = 0;
    expect(await b.runtime.poll('test')).toBe('up-to-date');
    expect(b.w.calls).toEqual(['lsRemote']);
    expect((await readPollState(b.store))?.remote_tip).toBe(C2);
  });
});

describe('the probe', () => {
  /** Run the probe alone over a mirror and a store given as fakes of our own interfaces. */
  async function probe(lsRemote: () => Promise<RemoteRefs>, get: Store['get']) {
    const store = { get, put: unused, list: unused, delete: unused } as unknown as Store;
    const deps = { mirror: { lsRemote }, store } as unknown as PipelineDeps;
    const state: RunState = { lastVersion: 0, signers: [], env: {} };
    const input = { config: config(), task: { log: () => undefined } } as unknown as RunInput;
    return { result: await probeRemote.run(deps, input, state), state };
  }
  const unused = (): never => {
    throw new Error('not expected');
  };

  it('reads the last commit while ls-remote runs, and a git failure is the one reported', async () => {
    let readStarted = false;
    const gitDown = new AppError('GIT_UNREACHABLE', 'the remote does not answer');
    await expect(
      probe(
        async () => {
          await Promise.resolve();
          expect(readStarted).toBe(true);
          throw gitDown;
        },
        async () => {
          readStarted = true;
          throw new AppError('STORAGE_FAILED', 'the store is down');
        },
      ),
    ).rejects.toBe(gitDown);
  });

  it('a store failure is reported when git answered', async () => {
    await expect(
      probe(
        async () => ({ branch: C2 }),
        async () => {
          throw new AppError('STORAGE_FAILED', 'the store is down');
        },
      ),
    ).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
