/**
 * kill -9 of the service during a run, then a restart on the same data directory: the stale
 * task is CANCELED, its container removed, and the commit processed on the next poll
 * (at-least-once). Real process, real Docker, real git.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import {
  mountApi,
  mountContainers,
  spawnService,
  type ServiceProcess,
} from '../helpers/service-process.js';

const MOUNT = 'e2e_crash';
const image = inject('testImage');
let repo: RepoPair;
let dataDir: string;
let svc: ServiceProcess | undefined;

const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
  mountApi(s, MOUNT, method, path, body);

const containers = (): string[] => mountContainers(MOUNT);
const runningContainers = (): string[] => mountContainers(MOUNT, { running: true });

async function configure(s: ServiceProcess, commands: string[]): Promise<void> {
  const r = await api(s, 'PUT', 'configure', {
    git_repo_url: `file://${repo.origin}`,
    git_poll_period: '1h',
    docker_image: image,
    commands,
  });
  expect(r.status).toBe(204);
}

beforeAll(async () => {
  repo = await createRepoPair();
  await commitFile(repo, 'app.txt', 'v1\n');
  await push(repo);
  dataDir = await mkdtemp(join(tmpdir(), 'fg-crash-'));
});

afterAll(async () => {
  await svc?.stop();
  for (const id of containers()) execFileSync('docker', ['rm', '-f', id]);
  await repo?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

describe('kill -9 during a run', () => {
  it('cancels the stale task, removes its container and processes the commit after restart', async () => {
    const first = await spawnService(dataDir, ['--mount', MOUNT]);
    svc = first;
    // Long enough to kill the service mid-run; the rerun after the restart ends by itself.
    await configure(first, ['sleep 8']);
    expect((await api(first, 'PUT', 'poll', {})).status).toBeLessThan(300);
    let taskId = '';
    await waitFor(
      'a running task with its container',
      async () => {
        taskId = ((await api(first, 'GET', 'status')).data.running_task as string | null) ?? '';
        return taskId !== '' && runningContainers().length > 0;
      },
      60_000,
    );
    await first.kill9();
    const orphans = containers(); // the orphan outlives the killed service
    expect(orphans.length).toBeGreaterThan(0);

    const second = await spawnService(dataDir, ['--mount', MOUNT]);
    svc = second;
    const stale = await api(second, 'GET', `task/${taskId}`);
    expect(stale.data.status).toBe('CANCELED');
    expect(String(stale.data.reason)).toMatch(/restart/i);
    // The killed run recorded nothing (a rerun takes at least 8 s, so none has finished yet).
    expect((await api(second, 'GET', 'status')).data.last_successful_commit).toBeNull();
    // The restarted service may already be running the commit again (its first tick polls);
    // only the orphan must be gone.
    await waitFor(
      'the orphan container to be swept',
      async () => !containers().some((id) => orphans.includes(id)),
      30_000,
    );

    expect((await api(second, 'PUT', 'poll', {})).status).toBeLessThan(300);
    const tip = execFileSync('git', ['-C', repo.origin, 'rev-parse', 'main'], {
      encoding: 'utf8',
    }).trim();
    await waitFor(
      'the commit to be processed after the restart',
      async () => (await api(second, 'GET', 'status')).data.last_successful_commit === tip,
      60_000,
    );
    await second.stop();
    svc = undefined;
  });
});
