/**
 * The plugin's life inside the bench's real OpenBao, with real git, gpg and Docker: two mounts
 * run as two processes that never touch each other's state; `bao plugin reload` keeps the
 * configuration and the next poll works; kill -9 mid-run is recovered on the next request (the
 * task CANCELED "plugin restarted", its container swept, the commit run on the next poll);
 * `bao secrets disable` mid-run ends the process and leaves no container.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, waitFor } from '../helpers/net.js';
import { startPluginBao, type PluginBao } from '../helpers/plugin-bao.js';
import {
  containersOfTask,
  prepareScenario,
  readData,
  taskIds,
  waitForDeployed,
  type Scenario,
} from '../helpers/plugin-scenario.js';

const A = 'flant_gitops';
const B = 'flant-gitops';
const exe = inject('pluginExecutable');
const image = inject('testImage');
let b: PluginBao;
let scenario: Scenario;
const ports: Record<string, number> = {};

interface Started {
  pid: number;
  lane: string;
  workDir: string;
}

/** The latest "background work started" line of `mount` (found by its webhook port). */
function started(mount: string): Started | undefined {
  const lines = readFileSync(b.pluginLogFile, 'utf8').split('\n').filter(Boolean);
  const mine = lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter(
      (l) =>
        l['@message'] === 'background work started' &&
        l.webhooks === `http://127.0.0.1:${ports[mount]}`,
    );
  const last = mine.at(-1);
  return last
    ? { pid: Number(last.pid), lane: String(last.lane), workDir: String(last.workDir) }
    : undefined;
}
const alive = (pid: number): boolean => b.pluginPids().includes(pid);

/** Poll `mount` and wait for a RUNNING task whose container runs; returns the task id. */
async function runningTask(mount: string): Promise<string> {
  await b.must(['write', '-f', `${mount}/poll`]);
  let id = '';
  await waitFor(
    `a running task of ${mount} with its container`,
    async () => {
      id = String((await readData(b, `${mount}/status`)).running_task ?? '');
      return id !== '' && id !== 'null' && containersOfTask(id).length > 0;
    },
    60_000,
  );
  return id;
}

/** Cancel whatever `mount` runs now (a rerun a restart may have started). */
async function cancelRunning(mount: string): Promise<void> {
  const id = (await readData(b, `${mount}/status`)).running_task;
  if (typeof id === 'string' && id) await b.cli(['write', '-f', `${mount}/task/${id}/cancel`]);
  await waitFor(
    `${mount} to be idle`,
    async () => !(await readData(b, `${mount}/status`)).running_task,
    30_000,
  );
}

beforeAll(async () => {
  b = await startPluginBao(exe);
  for (const m of [A, B]) {
    ports[m] = await freePort();
    await b.must([
      'secrets',
      'enable',
      `-path=${m}`,
      `-options=webhook_listen=127.0.0.1:${ports[m]}`,
      'flant_gitops',
    ]);
  }
  scenario = await prepareScenario(b, image);
});

afterAll(async () => {
  await b?.stop();
  await scenario?.cleanup();
});

describe('plugin lifecycle in OpenBao', () => {
  it('two mounts run as two processes with their own state', async () => {
    const tip = await scenario.signedCommit('two mounts\n');
    await scenario.configureMount(A, ['sh ./deploy.sh']);
    await scenario.configureMount(B, ['sh ./deploy.sh']);
    await Promise.all([waitForDeployed(b, A, tip), waitForDeployed(b, B, tip)]);
    const [sa, sb] = [started(A), started(B)];
    expect(sa && sb).toBeTruthy();
    expect(sa?.pid).not.toBe(sb?.pid);
    expect(sa?.lane).not.toBe(sb?.lane);
    expect(b.pluginPids()).toEqual(expect.arrayContaining([sa?.pid, sb?.pid]));
    expect(readdirSync(b.dataDir).sort()).toEqual([sa?.lane, sb?.lane].sort());
    const [ta, tb] = [await taskIds(b, A), await taskIds(b, B)];
    expect(ta.length).toBeGreaterThan(0);
    expect(ta.filter((id) => tb.includes(id))).toEqual([]);
  });

  it('bao plugin reload keeps the configuration and the next poll works', async () => {
    const before = await readData(b, `${A}/configure`);
    const old = started(A)?.pid ?? 0;
    await b.must(['plugin', 'reload', '-plugin=flant_gitops']);
    expect(await readData(b, `${A}/configure`)).toEqual(before);
    await waitFor(
      'a new process for the mount',
      async () => (started(A)?.pid ?? old) !== old,
      30_000,
    );
    await waitFor('the old process to exit', async () => !alive(old), 10_000);
    const tip = await scenario.signedCommit('after reload\n');
    await b.must(['write', '-f', `${A}/poll`]);
    await waitForDeployed(b, A, tip);
  });

  it('kill -9 mid-run: respawned on the next request, task CANCELED, container swept, commit rerun', async () => {
    const other = started(B)?.pid ?? 0;
    await scenario.configureMount(A, ['sleep 60']);
    const tip = await scenario.signedCommit('killed mid-run\n');
    const id = await runningTask(A);
    const victim = started(A)?.pid ?? 0;
    process.kill(victim, 'SIGKILL');
    await waitFor('the plugin process to die', async () => !alive(victim), 10_000);
    expect(containersOfTask(id).length).toBeGreaterThan(0); // the orphan outlives its process
    // The next request respawns the plugin (Setup, Initialize: recovery) and is answered.
    const stale = await readData(b, `${A}/task/${id}`);
    expect(stale.status).toBe('CANCELED');
    expect(stale.reason).toBe('plugin restarted');
    expect(started(A)?.pid).not.toBe(victim);
    await waitFor('the orphan to be swept', async () => containersOfTask(id).length === 0, 30_000);
    expect((await readData(b, `${A}/status`)).last_successful_commit).not.toBe(tip);
    await scenario.configureMount(A, ['sh ./deploy.sh']);
    await cancelRunning(A);
    await b.must(['write', '-f', `${A}/poll`]);
    await waitForDeployed(b, A, tip);
    expect(alive(other)).toBe(true); // the other mount's process was never touched
  });

  it('bao secrets disable mid-run: the process ends by itself and no container is left', async () => {
    const other = started(B)?.pid ?? 0;
    await scenario.configureMount(A, ['sleep 60']);
    await scenario.signedCommit('disabled mid-run\n');
    const id = await runningTask(A);
    const pid = started(A)?.pid ?? 0;
    await b.must(['secrets', 'disable', A]);
    await waitFor('the plugin process to exit', async () => !alive(pid), 5_000);
    expect(containersOfTask(id)).toEqual([]);
    const log = readFileSync(b.pluginLogFile, 'utf8');
    expect(log).toMatch(/"aborted":1,.*"@message":"background work stopped"/);
    expect(alive(other)).toBe(true);
    expect((await readData(b, `${B}/status`)).last_poll_outcome).toBeDefined();
    expect(
      execFileSync('docker', ['ps', '-aq', '--filter', `label=flant-gitops.task=${id}`], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('');
  });
});
