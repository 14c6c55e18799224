/**
 * The whole product, end to end, with real parts only: the service as src/service.ts composes it, real
 * OpenBao (target Vault and AppRole), real git repositories with commits signed by real gpg,
 * real Docker running the test image, configured through the real `bao` CLI.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import {
  commitFile,
  createRepoPair,
  git,
  gitEnv,
  push,
  type RepoPair,
} from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { bao, type BaoResult } from '../helpers/openbao.js';
import { startTestService, type TestService } from '../helpers/service.js';

const MOUNT = 'e2e_pipeline';
const openbao = inject('openbao');
const image = inject('testImage');
const suffix = randomBytes(4).toString('hex');
const approle = `approle-e2e-${suffix}`;
const secretPath = `e2e-${suffix}`;
const secretValue = `s3cr3t-${randomBytes(6).toString('hex')}`;

const DEPLOY = `set -eu
echo "message: $(cat /git/message.txt)"
echo "commit=$GIT_COMMIT branch=$GIT_BRANCH"
VAULT_TOKEN="$VAULT_REQUEST_TOKEN_GET_SECRET" bao unwrap -address="$VAULT_ADDR" -field=data -format=json
`;

/** The parts of Vault's envelope these tests read. */
interface ApiJson {
  data?: Record<string, unknown> & { keys?: string[] };
  errors?: string[];
}

let svc: TestService;
let home: GpgHome;
let key: GpgKey;
let repo: RepoPair;
let operatorSecretId: string;

function ok(r: BaoResult): string {
  if (r.code !== 0) throw new Error(`bao failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
const obao = (args: string[], stdin?: string) =>
  bao(openbao, args, stdin === undefined ? {} : { stdin });
const cli = (args: string[]) => bao({ addr: svc.addr, token: svc.token }, args);

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: ApiJson }> {
  const res = await fetch(`${svc.addr}/v1/${MOUNT}/${path}`, {
    method,
    headers: { 'x-vault-token': svc.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as ApiJson) : {} };
}
async function status(): Promise<Record<string, unknown>> {
  return (await api('GET', 'status')).json.data ?? {};
}
async function task(id: string): Promise<Record<string, string>> {
  return ((await api('GET', `task/${id}`)).json.data ?? {}) as Record<string, string>;
}
/** Request a poll and wait for the task it creates to finish; returns the task. */
async function pollAndWait(): Promise<Record<string, string>> {
  const before = new Set<string>(
    ((await api('GET', 'task?list=true')).json?.data?.keys ?? []) as string[],
  );
  ok(await cli(['write', '-f', `${MOUNT}/poll`]));
  let id: string | undefined;
  await waitFor(
    'a new task',
    async () => {
      const keys = ((await api('GET', 'task?list=true')).json?.data?.keys ?? []) as string[];
      id = keys.find((k) => !before.has(k));
      return id !== undefined;
    },
    30_000,
  );
  let t: Record<string, string> = {};
  await waitFor(
    'the task to finish',
    async () => {
      t = await task(id as string);
      return ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(t.status ?? '');
    },
    90_000,
  );
  return t;
}
async function taskLog(id: string): Promise<string> {
  return ok(await cli(['read', '-field=result', `${MOUNT}/task/${id}/log`, 'limit=0']));
}
function ourContainers(): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=flant-gitops.mount=${MOUNT}`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}
async function signedCommit(path: string, content: string): Promise<string> {
  const id = await commitFile(repo, path, content, { sign: { home, key } });
  await push(repo);
  return id;
}
async function configure(extra: Record<string, string> = {}): Promise<void> {
  const fields = {
    git_repo_url: `file://${repo.origin}`,
    git_branch_name: 'main',
    git_poll_period: '1h',
    required_number_of_verified_signatures_on_commit: '1',
    docker_image: image,
    commands: '["sh ./deploy.sh"]',
    ...extra,
  };
  ok(
    await cli([
      'write',
      `${MOUNT}/configure`,
      ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
    ]),
  );
}

beforeAll(async () => {
  // Target Vault: AppRole with a policy that can read one KV v2 secret.
  ok(await obao(['auth', 'enable', `-path=${approle}`, 'approle']));
  ok(
    await obao(
      ['policy', 'write', `e2e-${suffix}`, '-'],
      `path "auth/${approle}/login" { capabilities = ["create", "update"] }
path "auth/${approle}/role/deployer/secret-id" { capabilities = ["create", "update"] }
path "auth/${approle}/role/deployer/secret-id/destroy" { capabilities = ["create", "update"] }
path "secret/data/${secretPath}" { capabilities = ["read"] }
`,
    ),
  );
  ok(
    await obao([
      'write',
      `auth/${approle}/role/deployer`,
      `token_policies=e2e-${suffix}`,
      'secret_id_ttl=1h',
      'token_ttl=10m',
    ]),
  );
  ok(await obao(['kv', 'put', '-mount=secret', secretPath, `value=${secretValue}`]));
  const roleId = ok(
    await obao(['read', '-field=role_id', `auth/${approle}/role/deployer/role-id`]),
  );
  operatorSecretId = ok(
    await obao(['write', '-f', '-field=secret_id', `auth/${approle}/role/deployer/secret-id`]),
  );

  home = await createGpgHome();
  key = await generateKey(home, { name: 'Deployer One', email: 'one@example.test' });
  repo = await createRepoPair();
  await commitFile(repo, 'deploy.sh', DEPLOY, { sign: { home, key } });
  await signedCommit('message.txt', 'first deployment\n');

  svc = await startTestService({ mounts: [MOUNT] });
  ok(
    await cli([
      'write',
      `${MOUNT}/configure_vault_access`,
      `vault_addr=${openbao.addr}`,
      'vault_tls_server_name=localhost',
      'role_name=deployer',
      `role_id=${roleId}`,
      `secret_id=${operatorSecretId}`,
      'secret_id_ttl=1h',
      `approle_mount_point=auth/${approle}`,
      'token_ttl=10m',
    ]),
  );
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/trusted_pgp_public_key`,
      'name=one',
      `public_key=${await exportPublicKey(home, key)}`,
    ]),
  );
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/vault_request/get-secret`,
      `path=/v1/secret/data/${secretPath}`,
      'method=GET',
      'wrap_ttl=2m',
    ]),
  );
  await configure();
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await home?.cleanup();
  expect(ourContainers()).toEqual([]);
});

describe('end to end: a signed commit deploys', () => {
  it('runs the commands with the unwrapped secret and records the commit', async () => {
    const tip = (await git(repo.work, ['rev-parse', 'HEAD'])).toString().trim();
    // The scheduler's first tick may already poll the freshly configured mount; a requested
    // poll then coalesces with it. Either way the tip gets deployed exactly by one task.
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    await waitFor(
      'the tip to be recorded',
      async () => (await status()).last_successful_commit === tip,
      90_000,
    );
    const ids = ((await api('GET', 'task?list=true')).json.data?.keys ?? []) as string[];
    const logs = await Promise.all(ids.map((id) => taskLog(id)));
    const ran = logs.filter((l) => l.includes('message: first deployment'));
    expect(ran).toHaveLength(1);
    const log = ran[0] ?? '';
    expect(log).toContain(`commit=${tip} branch=main`);
    expect(log).toContain(secretValue);
    const cliStatus = ok(await cli(['read', '-field=last_successful_commit', `${MOUNT}/status`]));
    expect(cliStatus).toBe(tip);
    expect(ourContainers()).toEqual([]);
  });

  it('an unchanged tip is up to date: recorded in status, no task added, nothing runs', async () => {
    const keys = async (): Promise<string[]> =>
      ((await api('GET', 'task?list=true')).json?.data?.keys ?? []) as string[];
    const tasksBefore = await keys();
    const before = await status();
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    await waitFor(
      'the poll to be recorded',
      async () => (await status()).last_poll_at !== before.last_poll_at,
      30_000,
    );
    const after = await status();
    expect(after.last_poll_outcome).toBe('up-to-date');
    expect(after.remote_tip).toBe(before.last_successful_commit);
    expect(after.last_successful_commit).toBe(before.last_successful_commit);
    expect(await keys()).toEqual(tasksBefore);
    expect(ourContainers()).toEqual([]);
  });

  it('a failing command fails the task with its exit code; the commit is not recorded and is retried', async () => {
    const last = (await status()).last_successful_commit;
    await configure({ commands: '["sh ./deploy.sh", "exit 7"]' });
    await signedCommit('message.txt', 'second deployment\n');
    const first = await pollAndWait();
    expect(first.status).toBe('FAILED');
    expect(first.reason).toMatch(/\b7\b/);
    expect((await status()).last_successful_commit).toBe(last);
    const retry = await pollAndWait();
    expect(retry.uuid).not.toBe(first.uuid);
    expect(retry.status).toBe('FAILED');
    expect(ourContainers()).toEqual([]);
  });

  it('a timeout kills and removes the container and fails the task', async () => {
    ok(await cli(['write', `${MOUNT}/task/configure`, 'task_timeout=3s']));
    await configure({ commands: '["sleep 60"]' });
    const t = await pollAndWait();
    expect(t.status).toBe('FAILED');
    expect(t.reason).toMatch(/did not finish within 3s/);
    expect(ourContainers()).toEqual([]);
    ok(await cli(['write', `${MOUNT}/task/configure`, 'task_timeout=30m']));
  });

  it('cancel kills and removes the running container', async () => {
    await configure({ commands: '["sleep 60"]' });
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    let id = '';
    await waitFor(
      'a running task with its container',
      async () => {
        id = ((await status()).running_task as string | null) ?? '';
        return id !== '' && ourContainers().length > 0;
      },
      60_000,
    );
    ok(await cli(['write', '-f', `${MOUNT}/task/${id}/cancel`]));
    await waitFor(
      'the task to be canceled',
      async () => (await task(id)).status === 'CANCELED',
      30_000,
    );
    await waitFor('the container to be removed', async () => ourContainers().length === 0, 30_000);
  });

  it('a force push fails as "not a descendant" until the operator resets last_successful_commit', async () => {
    await configure();
    const recorded = (await status()).last_successful_commit as string;
    expect(recorded).toMatch(/^[0-9a-f]{40}$/);
    // Rewrite history: a new root commit, signed, force-pushed.
    await git(repo.work, ['checkout', '-q', '--orphan', 'rewritten']);
    await commitFile(repo, 'deploy.sh', DEPLOY, { sign: { home, key } });
    const tip = await commitFile(repo, 'message.txt', 'rewritten history\n', {
      sign: { home, key },
    });
    await git(repo.work, ['branch', '-M', 'main'], { env: gitEnv() });
    await push(repo);
    const refused = await pollAndWait();
    expect(refused.status).toBe('FAILED');
    expect(refused.reason).toMatch(/not a descendant/);
    expect((await status()).last_successful_commit).toBe(recorded);
    ok(await cli(['delete', `${MOUNT}/last_successful_commit`]));
    const t = await pollAndWait();
    expect(t.status, t.reason).toBe('SUCCEEDED');
    expect(await taskLog(t.uuid as string)).toContain('message: rewritten history');
    expect((await status()).last_successful_commit).toBe(tip);
  });

  it('a signed webhook delivery triggers the poll of a mount whose period is an hour', async () => {
    const secret = randomBytes(24).toString('hex');
    ok(await cli(['write', `${MOUNT}/configure/webhook/ci`, 'source=generic', `secret=${secret}`]));
    const hookPath = ok(await cli(['read', '-field=hook_path', `${MOUNT}/configure/webhook/ci`]));
    const tip = await signedCommit('message.txt', 'delivered by webhook\n');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: tip });
    const res = await fetch(`${svc.addr}${hookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBe(202);
    await waitFor(
      'the webhook-triggered run to record the tip',
      async () => (await status()).last_successful_commit === tip,
      60_000,
    );
    const logs = svc.logs();
    expect(logs).not.toContain(secret);
  });

  it('200 GitHub deliveries within a second cause at most two polls, never overlapping; a replay none', async () => {
    const secret = randomBytes(24).toString('hex');
    ok(await cli(['write', `${MOUNT}/configure/webhook/gh`, 'source=github', `secret=${secret}`]));
    const hookPath = ok(await cli(['read', '-field=hook_path', `${MOUNT}/configure/webhook/gh`]));
    await signedCommit('message.txt', 'burst\n');
    const listTasks = async () =>
      ((await api('GET', 'task?list=true')).json.data?.keys ?? []) as string[];
    await waitFor('no task running', async () => (await status()).running_task === null, 60_000);
    const before = new Set(await listTasks());
    const body = JSON.stringify({ ref: 'refs/heads/main', after: '0'.repeat(40) });
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const deliver = (id: string) =>
      fetch(`${svc.addr}${hookPath}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': id,
          'x-hub-signature-256': signature,
        },
        body,
      }).then((r) => r.status);
    const codes = await Promise.all(Array.from({ length: 200 }, (_, i) => deliver(`burst-${i}`)));
    expect(codes.every((c) => c === 202)).toBe(true);
    await waitFor(
      'the burst to be handled',
      async () => {
        const st = await status();
        return st.running_task === null && st.queued_task === null;
      },
      60_000,
    );
    await svc.service.scheduler.whenIdle();
    const created = (await listTasks()).filter((k) => !before.has(k));
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(created.length).toBeLessThanOrEqual(2);
    const spans = (await Promise.all(created.map((id) => task(id))))
      .map((t) => [Date.parse(t.created ?? ''), Date.parse(t.modified ?? '')] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? Infinity);
    }
    // A replayed delivery id is answered but polls nothing.
    const settled = new Set(await listTasks());
    expect(await deliver('burst-7')).toBe(202);
    await svc.service.scheduler.whenIdle();
    expect((await listTasks()).filter((k) => !settled.has(k))).toEqual([]);
  });

  it('no secret reaches the service log', () => {
    const logs = svc.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const s of [svc.token, operatorSecretId, secretValue]) expect(logs).not.toContain(s);
    expect(logs).not.toMatch(/"(s\.|hvs\.|hvb\.)[A-Za-z0-9]{20,}/);
  });

  it('the operator secret id was handed over: it no longer logs in', async () => {
    const r = await obao([
      'write',
      `auth/${approle}/login`,
      `role_id=${ok(await obao(['read', '-field=role_id', `auth/${approle}/role/deployer/role-id`]))}`,
      `secret_id=${operatorSecretId}`,
    ]);
    expect(r.code).not.toBe(0);
  });
});
