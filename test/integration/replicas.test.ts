/**
 * Several replicas sharing one OpenBao KV v2 store (issue: configuration and state in Vault KV).
 * Real service processes on loopback ports, real OpenBao, real git, gpg and Docker. Each run's
 * command reports its start and end to a marker server, so the test counts runs per commit and
 * sees any overlap.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { bao } from '../helpers/openbao.js';
import {
  mountApi,
  mountContainers,
  spawnService,
  type ServiceProcess,
} from '../helpers/service-process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const MOUNT = 'replicated';
const openbao = inject('openbao');
const image = inject('testImage');
const kvMount = `fg-rep-${randomBytes(4).toString('hex')}`;
const LEASE_TTL = 3;

/** What the marker server saw. */
const starts = new Map<string, number>();
const ends = new Map<string, number>();
let running = 0;
let maxConcurrent = 0;
let marker: Server;
let markerPort: number;

let proxy: TcpProxy;
let repo: RepoPair;
let home: GpgHome;
let key: GpgKey;
const dirs: Record<string, string> = {};
const replicas: Record<string, ServiceProcess | undefined> = {};

async function startReplica(id: 'A' | 'B'): Promise<ServiceProcess> {
  const p = await spawnService(
    dirs[id] as string,
    [
      '--mount',
      MOUNT,
      '--storage',
      'vault-kv',
      '--kv-addr',
      `http://127.0.0.1:${proxy.port}`,
      '--kv-mount',
      kvMount,
      '--kv-prefix',
      'flant-gitops',
      '--replica-id',
      id,
      '--lease-ttl-seconds',
      String(LEASE_TTL),
    ],
    { FLANT_GITOPS_KV_TOKEN: openbao.token },
  );
  replicas[id] = p;
  return p;
}

const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
  mountApi(s, MOUNT, method, path, body);

async function leaseHolder(): Promise<string | undefined> {
  const r = await bao(openbao, [
    'kv',
    'get',
    '-format=json',
    `-mount=${kvMount}`,
    `flant-gitops/lease/${MOUNT}`,
  ]);
  if (r.code !== 0) return undefined;
  const rec = (
    JSON.parse(r.stdout) as { data: { data: { value: { holder: string; expires: number } } } }
  ).data.data.value;
  return rec.expires > Date.now() ? rec.holder : undefined;
}

let currentSleep = '';
async function signedPush(content: string, sleepSeconds = '0.3'): Promise<string> {
  if (sleepSeconds !== currentSleep) {
    await commitFile(repo, 'sleep.txt', `${sleepSeconds}\n`, { sign: { home, key } });
    currentSleep = sleepSeconds;
  }
  const id = await commitFile(repo, 'app.txt', content, { sign: { home, key } });
  await push(repo);
  return id;
}

const containers = (): string[] => mountContainers(MOUNT);

beforeAll(async () => {
  const r = await bao(openbao, ['secrets', 'enable', `-path=${kvMount}`, 'kv-v2']);
  expect(r.code, r.stderr).toBe(0);
  proxy = await startTcpProxy(Number(new URL(openbao.addr).port));

  marker = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const c = u.searchParams.get('c') ?? '';
    if (u.pathname === '/start') {
      starts.set(c, (starts.get(c) ?? 0) + 1);
      running += 1;
      maxConcurrent = Math.max(maxConcurrent, running);
    } else if (u.pathname === '/end') {
      ends.set(c, (ends.get(c) ?? 0) + 1);
      running -= 1;
    }
    res.end('ok');
  });
  await new Promise<void>((r) => marker.listen(0, '127.0.0.1', () => r()));
  const bound = marker.address();
  markerPort = typeof bound === 'object' && bound ? bound.port : 0;

  home = await createGpgHome();
  key = await generateKey(home, { name: 'Replica Deployer', email: 'replicas@example.test' });
  repo = await createRepoPair();
  await commitFile(
    repo,
    'run.sh',
    `set -eu
wget -q -O- "http://127.0.0.1:${markerPort}/start?c=$GIT_COMMIT" >/dev/null
sleep "$(cat /git/sleep.txt)"
wget -q -O- "http://127.0.0.1:${markerPort}/end?c=$GIT_COMMIT" >/dev/null
`,
    { sign: { home, key } },
  );
  await signedPush('v0\n');
  for (const id of ['A', 'B']) dirs[id] = await mkdtemp(join(tmpdir(), `fg-replica-${id}-`));
  await startReplica('A');
  await startReplica('B');
});

afterAll(async () => {
  for (const p of Object.values(replicas)) await p?.stop();
  for (const id of containers()) execFileSync('docker', ['rm', '-f', id]);
  await proxy?.close();
  await new Promise<void>((r) => (marker ? marker.close(() => r()) : r()));
  await repo?.cleanup();
  await home?.cleanup();
  for (const d of Object.values(dirs)) await rm(d, { recursive: true, force: true });
});

describe('replicas sharing a Vault KV store', () => {
  it('configuration written through replica A reads back through replica B', async () => {
    const a = replicas.A as ServiceProcess;
    const b = replicas.B as ServiceProcess;
    const w = await api(a, 'PUT', 'configure/trusted_pgp_public_key', {
      name: 'deployer',
      public_key: await exportPublicKey(home, key),
    });
    expect(w.status).toBe(204);
    const c = await api(a, 'PUT', 'configure', {
      git_repo_url: `file://${repo.origin}`,
      git_poll_period: '1h',
      required_number_of_verified_signatures_on_commit: 1,
      docker_image: image,
      commands: ['sh ./run.sh'],
    });
    expect(c.status).toBe(204);
    const back = await api(b, 'GET', 'configure');
    expect(back.status).toBe(200);
    expect(back.data).toMatchObject({
      git_repo_url: `file://${repo.origin}`,
      required_number_of_verified_signatures_on_commit: 1,
      docker_image: image,
      commands: ['sh ./run.sh'],
    });
    expect((await api(b, 'GET', 'configure/trusted_pgp_public_key/deployer')).status).toBe(200);
  });

  it('20 signed pushes, polls asked of either replica: each commit runs exactly once, never two at once', async () => {
    const commits: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const c = await signedPush(`v${i}\n`);
      commits.push(c);
      const via = i % 2 === 0 ? replicas.A : replicas.B;
      expect((await api(via as ServiceProcess, 'PUT', 'poll', {})).status).toBeLessThan(300);
      await waitFor(`run of push ${i}`, async () => (ends.get(c) ?? 0) >= 1, 60_000, 50);
    }
    // More poll requests to both replicas must not run anything again.
    for (const p of [replicas.A, replicas.B]) await api(p as ServiceProcess, 'PUT', 'poll', {});
    const last = commits[commits.length - 1] as string;
    await waitFor(
      'the last commit to be recorded',
      async () =>
        (await api(replicas.A as ServiceProcess, 'GET', 'status')).data.last_successful_commit ===
        last,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const c of commits) expect(starts.get(c), c).toBe(1);
    expect(maxConcurrent).toBe(1);
  });

  it('kill -9 of the lease holder mid-run: the other replica takes over and processes the commit', async () => {
    const holder = await leaseHolder();
    expect(holder === 'A' || holder === 'B').toBe(true);
    const other = holder === 'A' ? 'B' : 'A';
    const victim = replicas[holder as 'A' | 'B'] as ServiceProcess;
    const c = await signedPush('interrupted\n', '8');
    await api(victim, 'PUT', 'poll', {});
    await waitFor(
      'the run to start on the holder',
      async () => (starts.get(c) ?? 0) >= 1,
      60_000,
      50,
    );
    await victim.kill9();
    replicas[holder as 'A' | 'B'] = undefined;
    const survivor = replicas[other] as ServiceProcess;
    await waitFor(
      'the survivor to take the lease',
      async () => (await leaseHolder()) === other,
      (LEASE_TTL + 5) * 1000,
    );
    await waitFor(
      'the interrupted commit to be processed by the survivor',
      async () => (await api(survivor, 'GET', 'status')).data.last_successful_commit === c,
      60_000,
    );
    // At-least-once: the survivor ran it again (the orphan of the killed replica may also end).
    expect(starts.get(c)).toBeGreaterThanOrEqual(2);
    await startReplica(holder as 'A' | 'B');
  });

  it('OpenBao unreachable for a while: no run starts, nothing is corrupted, work resumes', async () => {
    const a = replicas.A as ServiceProcess;
    const before = await api(a, 'GET', 'configure');
    await proxy.cut();
    const c = await signedPush('during outage\n');
    for (const p of [replicas.A, replicas.B])
      await api(p as ServiceProcess, 'PUT', 'poll', {}).catch(() => undefined);
    await new Promise((r) => setTimeout(r, (LEASE_TTL + 3) * 1000));
    expect(starts.get(c) ?? 0).toBe(0);
    await proxy.restore();
    await waitFor(
      'a replica to hold the lease again',
      async () => (await leaseHolder()) !== undefined,
      30_000,
    );
    for (const p of [replicas.A, replicas.B]) await api(p as ServiceProcess, 'PUT', 'poll', {});
    await waitFor(
      'the commit pushed during the outage to run',
      async () => (ends.get(c) ?? 0) >= 1,
      60_000,
    );
    expect(starts.get(c)).toBe(1);
    const after = await api(replicas.B as ServiceProcess, 'GET', 'configure');
    expect(after.data).toEqual(before.data);
  });
});
