import { access } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { StorageKeys } from '../../src/config/stored.js';
import { AppError } from '../../src/errors.js';
import type { SignatureVerifier } from '../../src/pgp/types.js';
import type { TaskSettings, TrustedKey } from '../../src/config/settings-schemas.js';
import { readPollState } from '../../src/pipeline/poll-state.js';
import { VAULT_CA_CONTAINER_PATH } from '../../src/pipeline/steps-run.js';
import { listTasks } from '../../src/tasks/task-record.js';
import {
  ACCESS,
  addVaultRequest,
  benchesPerTest,
  C1,
  C2,
  C3,
  config,
  lastCommit,
  onlyTask,
  MOUNT,
  setLastCommit,
  world,
} from './pipeline-fakes.js';

const open = benchesPerTest();

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('a poll of a configured mount', () => {
  it('is "up to date" without a task, fetching or running when the tip is the last successful commit: one ls-remote and the poll state', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C2);
    await b.runtime.poll('periodic');
    expect(await listTasks(b.store)).toEqual([]);
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'up-to-date',
      last_poll_reason: `up to date at ${C2}`,
      last_poll_code: '',
      remote_tip: C2,
      last_successful_commit: C2,
      task: '',
    });
    expect(b.w.calls).toEqual(['lsRemote']);
  });

  it('takes initial_last_successful_commit as the last commit when none is stored', async () => {
    const b = await open(world({ remote: { branch: C2 } }), {
      configure: config({ initial_last_successful_commit: C2 }),
    });
    await b.runtime.poll('periodic');
    expect((await readPollState(b.store))?.last_poll_outcome).toBe('up-to-date');
    expect(await listTasks(b.store)).toEqual([]);
    expect(b.w.runs).toHaveLength(0);
  });

  it('keeps the history of tasks that ran: up-to-date polls after a deploy add none', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    await b.runtime.poll('periodic');
    const deployed = await onlyTask(b);
    for (let i = 0; i < 3; i++) await b.runtime.poll('periodic');
    expect(await onlyTask(b)).toEqual(deployed);
    expect(b.w.calls.filter((c) => c === 'lsRemote')).toHaveLength(4);
    expect(b.w.runs).toHaveLength(1);
  });

  it('asks the remote once per poll that runs: the task reuses the ls-remote made before it', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    await b.runtime.poll('periodic');
    expect(b.w.calls.filter((c) => c === 'lsRemote')).toHaveLength(1);
    expect((await onlyTask(b)).status).toBe('SUCCEEDED');
  });

  it('records a failed ls-remote as a FAILED task with its code, asking the remote once', async () => {
    const w = world();
    Object.defineProperty(w, 'remote', {
      get: () => {
        throw new AppError('GIT_UNREACHABLE', 'the remote cannot be reached');
      },
    });
    const b = await open(w);
    await b.runtime.poll('periodic');
    expect(await onlyTask(b)).toMatchObject({ status: 'FAILED', reason_code: 'GIT_UNREACHABLE' });
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'failed',
      last_poll_code: 'GIT_UNREACHABLE',
    });
    expect(b.w.calls).toEqual(['lsRemote']);
  });

  it('records the tip as last_successful_commit after a successful run, and summarises the poll state', async () => {
    const b = await open(world({ remote: { branch: C2 } }));
    await setLastCommit(b.store, C1);
    await b.runtime.poll('api');
    const t = await onlyTask(b);
    expect(t).toMatchObject({ status: 'SUCCEEDED', reason_code: 'DEPLOYED', commit: C2 });
    expect(await lastCommit(b.store)).toBe(C2);
    expect(await readPollState(b.store)).toMatchObject({
      last_poll_outcome: 'deployed',
      remote_tip: C2,
      last_successful_commit: C2,
      task: t.uuid,
    });
    expect(b.w.calls).toEqual([
      'lsRemote',
      'fetch',
      'isAncestor',
      'ensureImage',
      `exportTree:${C2}:${b.w.runs[0]?.worktree}`,
      'run',
    ]);
  });

  it('runs a first tip without ancestry check when no last commit is known', async () => {
    const b = await open(world({ remote: { branch: C3 } }));
    await b.runtime.poll('periodic');
    expect((await onlyTask(b)).status).toBe('SUCCEEDED');
    expect(b.w.calls).not.toContain('isAncestor');
    expect(await lastCommit(b.store)).toBe(C3);
  });

  it('does nothing at all when the mount is not configured', async () => {
    const b = await open(world(), { configure: false });
    await b.runtime.poll('periodic');
    expect(await listTasks(b.store)).toEqual([]);
    expect(b.w.calls).toEqual([]);
  });
});

describe('signatures', () => {
  it('are not checked when N = 0', async () => {
    const b = await open(world());
    await b.runtime.poll('periodic');
    expect(b.w.calls).not.toContain('policy');
    expect((await onlyTask(b)).status).toBe('SUCCEEDED');
  });

  it('are checked on the tip with N, the trusted keys from the store and the notes of both sources', async () => {
    const b = await open(
      world({
        remote: { branch: C2, notes: 'n'.repeat(40), latestSignatureTag: 't'.repeat(40) },
        notes: { 'notes-ref': 'sig-from-notes', 'latest-signature-tag': 'sig-from-tag' },
      }),
      { configure: config({ required_number_of_verified_signatures_on_commit: 1 }) },
    );
    const key: TrustedKey = { name: 'alice', public_key: 'ARMORED-ALICE' };
    await b.store.put(StorageKeys.trustedKey('alice'), key);
    await b.runtime.poll('periodic');
    const input = b.w.policyInputs[0];
    expect(input).toMatchObject({
      commitId: C2,
      required: 1,
      notes: ['sig-from-notes', 'sig-from-tag'],
    });
    expect(input?.keys).toEqual([{ name: 'alice', publicKey: 'ARMORED-ALICE' }]);
    expect(new TextDecoder().decode(input?.rawCommit)).toContain(C2);
    expect((await onlyTask(b)).status).toBe('SUCCEEDED');
  });
});

describe('signatures with the production policy (pipelineSignaturePolicy) over a fake verifier', () => {
  const FPR = 'A'.repeat(40);
  const verifier: SignatureVerifier = {
    prepare: async (keys) => ({
      count: keys.length,
      namesByFingerprint: new Map(keys.map((k) => [FPR, [k.name]])),
      unusable: [],
    }),
    // Only the note line "R09PRA==" ("GOOD") is a valid signature by the trusted key.
    verifyDetached: async (sig) =>
      new TextDecoder().decode(typeof sig === 'string' ? new TextEncoder().encode(sig) : sig) ===
      'GOOD'
        ? { ok: true, primaryFingerprint: FPR, signedAt: '2024-01-01T00:00:00Z' }
        : { ok: false, reason: 'bad-signature', detail: 'does not verify' },
  };

  it.each([
    { note: 'R09PRA==', status: 'SUCCEEDED', code: 'DEPLOYED' },
    { note: 'QkFE', status: 'FAILED', code: 'SIGNATURES_INSUFFICIENT' },
  ])('a note line $note makes the task $status', async ({ note, status, code }) => {
    const b = await open(
      world({ remote: { branch: C2, notes: 'n'.repeat(40) }, notes: { 'notes-ref': note } }),
      {
        configure: config({ required_number_of_verified_signatures_on_commit: 1 }),
        verifier,
      },
    );
    const key: TrustedKey = { name: 'alice', public_key: 'ARMORED-ALICE' };
    await b.store.put(StorageKeys.trustedKey('alice'), key);
    await b.runtime.poll('periodic');
    expect(await onlyTask(b)).toMatchObject({ status, reason_code: code });
  });
});

describe('the run', () => {
  it('makes Vault requests after the image is present and just before the run', async () => {
    const b = await open(world());
    await addVaultRequest(b.store, 'get-config');
    await addVaultRequest(b.store, 'db-creds');
    await b.runtime.poll('periodic');
    const order = b.w.calls.filter(
      (c) => ['ensureImage', 'run'].includes(c) || c.startsWith('vault:'),
    );
    expect(order).toEqual(['ensureImage', 'vault:db-creds', 'vault:get-config', 'run']);
  });

  it('gets tokens, Vault access, commit and branch in its environment, the CA read-only, labels and the timeout', async () => {
    const b = await open(world());
    await addVaultRequest(b.store, 'get-config');
    const taskCfg: TaskSettings = { task_timeout: 90, task_history_limit: 10 };
    await b.store.put(StorageKeys.taskConfiguration, taskCfg);
    let caSeen = '';
    b.w.run = async (spec) => {
      caSeen = spec.files?.[VAULT_CA_CONTAINER_PATH] ?? '';
      expect(await exists(caSeen)).toBe(true);
      expect(await exists(spec.worktree)).toBe(true);
      return { outcome: 'succeeded' };
    };
    await b.runtime.poll('periodic');
    const spec = b.w.runs[0];
    const t = await onlyTask(b);
    expect(spec?.env).toEqual({
      VAULT_REQUEST_TOKEN_GET_CONFIG: 'hvs.wrapped-get-config',
      VAULT_ADDR: ACCESS.vault_addr,
      VAULT_TLS_SERVER_NAME: ACCESS.vault_tls_server_name,
      VAULT_CACERT: VAULT_CA_CONTAINER_PATH,
      GIT_COMMIT: C2,
      GIT_BRANCH: 'main',
    });
    expect(spec?.labels).toEqual({
      'flant-gitops.instance': 'default',
      'flant-gitops.mount': MOUNT,
      'flant-gitops.task': t.uuid,
    });
    expect(spec?.timeoutMs).toBe(90_000);
    expect(spec?.commands).toEqual(config().commands);
    expect(spec?.networkMode).toBe('host');
    expect(await exists(caSeen)).toBe(false);
    expect(await exists(spec?.worktree ?? '/nonexistent')).toBe(false);
  });

  it('gets no VAULT_* variables when Vault access is not configured', async () => {
    const b = await open(world());
    await b.runtime.poll('periodic');
    expect(Object.keys(b.w.runs[0]?.env ?? {}).sort()).toEqual(['GIT_BRANCH', 'GIT_COMMIT']);
    expect(b.w.runs[0]?.files).toEqual({});
  });

  it('removes its temp dirs when the run fails', async () => {
    const b = await open(world());
    b.w.run = async () => {
      throw new AppError('RUNNER_FAILED', 'engine down');
    };
    await b.runtime.poll('periodic');
    expect((await onlyTask(b)).reason_code).toBe('RUNNER_FAILED');
    expect(await exists(b.w.runs[0]?.worktree ?? '/nonexistent')).toBe(false);
  });

  it('never writes a token into the task log or the stored task', async () => {
    const b = await open(world());
    await addVaultRequest(b.store, 'get-config');
    await b.runtime.poll('periodic');
    const dump = JSON.stringify([
      ...(await listTasks(b.store)),
      await b.store.get(StorageKeys.taskLog((await onlyTask(b)).uuid)),
      await readPollState(b.store),
    ]);
    expect(dump).not.toContain('hvs.wrapped');
    expect(dump).not.toContain(ACCESS.secret_id);
  });
});
