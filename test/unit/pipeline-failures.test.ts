import { describe, expect, it } from 'vitest';
import { StorageKeys } from '../../src/config/stored.js';
import { AppError } from '../../src/errors.js';
import { readPollState } from '../../src/pipeline/poll-state.js';
import { listTasks } from '../../src/tasks/task-record.js';
import {
  addVaultRequest,
  benchesPerTest,
  C1,
  C2,
  C3,
  config,
  lastCommit,
  onlyTask,
  setLastCommit,
  world,
  type Bench,
} from './pipeline-fakes.js';

const open = benchesPerTest();

type FailureCase = {
  readonly name: string;
  readonly setup: (b: Bench) => Promise<void> | void;
  readonly code: string;
  readonly reason: readonly string[];
  /** Calls that must not have happened. */
  readonly notCalled: readonly string[];
};

const failures: readonly FailureCase[] = [
  {
    name: 'a tip that does not descend from the last commit fails "not a descendant" naming both ids',
    setup: (b) => setLastCommit(b.store, C3),
    code: 'NOT_A_DESCENDANT',
    reason: [C2, C3, 'not a descendant'],
    notCalled: ['policy', 'ensureImage', 'run'],
  },
  {
    name: 'a branch missing on the remote fails GIT_NOT_FOUND',
    setup: (b) => {
      b.w.remote = {};
    },
    code: 'GIT_NOT_FOUND',
    reason: ['main'],
    notCalled: ['fetch', 'ensureImage', 'run'],
  },
  {
    name: 'too few valid signatures fail SIGNATURES_INSUFFICIENT',
    setup: async (b) => {
      await b.store.put(
        StorageKeys.configuration,
        config({ required_number_of_verified_signatures_on_commit: 2 }),
      );
      b.w.policy = async () => ({ ok: false, validCount: 1, signers: ['alice'], rejected: [] });
    },
    code: 'SIGNATURES_INSUFFICIENT',
    reason: ['1 valid signature', '2 required'],
    notCalled: ['ensureImage', 'run'],
  },
  {
    name: 'a policy that throws SIGNATURES_INSUFFICIENT itself fails the same way',
    setup: async (b) => {
      await b.store.put(
        StorageKeys.configuration,
        config({ required_number_of_verified_signatures_on_commit: 1 }),
      );
      b.w.policy = async () => {
        throw new AppError('SIGNATURES_INSUFFICIENT', 'no trusted signature on the commit');
      };
    },
    code: 'SIGNATURES_INSUFFICIENT',
    reason: ['no trusted signature'],
    notCalled: ['ensureImage', 'run'],
  },
  {
    name: 'an image that cannot be had fails RUNNER_FAILED before any Vault request',
    setup: async (b) => {
      await addVaultRequest(b.store, 'get-config');
      b.w.ensureImage = async () => {
        throw new AppError('RUNNER_FAILED', 'image not found');
      };
    },
    code: 'RUNNER_FAILED',
    reason: ['image not found'],
    notCalled: ['vault:get-config', 'run'],
  },
  {
    name: 'a failing Vault request fails the task naming the request, and no container starts',
    setup: async (b) => {
      await addVaultRequest(b.store, 'get-config');
      b.w.failingRequests.add('get-config');
    },
    code: 'VAULT_REQUEST_FAILED',
    reason: ['get-config', 'permission denied'],
    notCalled: ['run'],
  },
  {
    name: 'Vault requests without configure_vault_access fail NOT_CONFIGURED',
    setup: (b) => addVaultRequest(b.store, 'get-config', false),
    code: 'NOT_CONFIGURED',
    reason: ['configure_vault_access'],
    notCalled: ['vault:get-config', 'run'],
  },
  {
    name: 'a command exiting non-zero fails COMMAND_FAILED with the exit code',
    setup: (b) => {
      b.w.run = async () => ({ outcome: 'failed', commandIndex: 1, exitCode: 3 });
    },
    code: 'COMMAND_FAILED',
    reason: ['command 2 of 2', 'code 3'],
    notCalled: [],
  },
  {
    name: 'a run over task_timeout fails TASK_TIMEOUT',
    setup: (b) => {
      b.w.run = async () => ({ outcome: 'timeout', commandIndex: 0 });
    },
    code: 'TASK_TIMEOUT',
    reason: ['1800s'],
    notCalled: [],
  },
];

describe('a failing poll', () => {
  it.each(failures)('$name; last_successful_commit stays unchanged', async (c) => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    await c.setup(b);
    const before = await lastCommit(b.store);
    await b.runtime.poll('periodic');
    const t = await onlyTask(b);
    expect(t.status).toBe('FAILED');
    expect(t.reason_code).toBe(c.code);
    for (const part of c.reason) expect(t.reason).toContain(part);
    for (const call of c.notCalled) expect(b.w.calls).not.toContain(call);
    expect(await lastCommit(b.store)).toBe(before);
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'failed',
      last_poll_code: c.code,
    });
  });

  it('is retried by the next poll without a second fetch, and succeeds once the command does', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    b.w.run = async () => ({ outcome: 'failed', commandIndex: 0, exitCode: 1 });
    await b.runtime.poll('periodic');
    b.w.run = async () => ({ outcome: 'succeeded' });
    await b.runtime.poll('periodic');
    const tasks = await listTasks(b.store);
    expect(tasks.map((t) => t.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(b.w.calls.filter((c) => c === 'fetch')).toHaveLength(1);
    expect(b.w.calls.filter((c) => c === 'run')).toHaveLength(2);
    expect(await lastCommit(b.store)).toBe(C2);
  });

  it('does not overwrite a last_successful_commit an operator set during the run', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    b.w.run = async () => {
      await setLastCommit(b.store, C3);
      return { outcome: 'succeeded' };
    };
    await b.runtime.poll('periodic');
    expect((await onlyTask(b)).reason_code).toBe('CONFLICT');
    expect(await lastCommit(b.store)).toBe(C3);
  });
});
