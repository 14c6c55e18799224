/**
 * The plugin on a real three-node OpenBao cluster (integrated storage, the bench's bao 2.7.2),
 * with the built plugin executable, real git, gpg and Docker. Writes and reads work through any
 * node; the active node is killed with -9 three times while a run is in flight, and stepped down
 * once: every signed commit's command runs to its end at least once, two runs of the mount never
 * overlap (a marker server records each run's start and stop and counts the mount's running
 * containers at every start), last_successful_commit ends at the last tip and no container is
 * left. Nothing here measures time (benchmark 11 does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import { waitFor } from '../helpers/net.js';
import { startOpenBaoCluster, type OpenBaoCluster } from '../helpers/openbao-cluster.js';
import { startRunMarker, type RunEvent, type RunMarker } from '../helpers/run-marker.js';

const MOUNT = 'flant_gitops';
const exe = inject('pluginExecutable');
const image = inject('testImage');
let cluster: OpenBaoCluster;
let marker: RunMarker;
let repo: RepoPair;
let home: GpgHome;
let key: GpgKey;
let lane = '';

async function signedCommit(content: string): Promise<string> {
  const id = await commitFile(repo, 'message.txt', content, { sign: { home, key } });
  await push(repo);
  return id;
}

async function readData(path: string): Promise<Record<string, unknown>> {
  const out = await cluster.must(['read', '-format=json', path]);
  return (JSON.parse(out) as { data: Record<string, unknown> }).data;
}

/** The mount's id, from the "background work started" line of whichever node logged one. */
function mountLane(): string {
  for (const n of cluster.nodes) {
    if (!existsSync(n.pluginLogFile)) continue;
    for (const line of readFileSync(n.pluginLogFile, 'utf8').split('\n')) {
      if (!line.includes('"background work started"')) continue;
      const l = JSON.parse(line) as { lane?: unknown };
      if (typeof l.lane === 'string') return l.lane;
    }
  }
  return '';
}

function containersOfMount(): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=flant-gitops.mount=${lane}`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

const started = (commit: string) => (e: RunEvent) => e.kind === 'start' && e.commit === commit;
const stopped = (commit: string) => (e: RunEvent) => e.kind === 'stop' && e.commit === commit;

/** Ask for a poll through a standby (which forwards it), or any node while there is none. */
async function pollNow(): Promise<void> {
  const active = await cluster.active();
  const standby = cluster.nodes.find((n) => n !== active && n.running());
  if (standby && (await cluster.cliAt(standby, ['write', '-f', `${MOUNT}/poll`])).code === 0) {
    return;
  }
  await cluster.must(['write', '-f', `${MOUNT}/poll`]);
}

interface TaskView {
  readonly id: string;
  readonly status: string;
  readonly reason: string;
}

/** The mount's tasks in its history (the oldest are pruned), through any node. */
async function tasks(): Promise<TaskView[]> {
  const ids = JSON.parse(await cluster.must(['list', '-format=json', `${MOUNT}/task`])) as string[];
  const out: TaskView[] = [];
  for (const id of ids) {
    // A task pruned from the history between the list and the read is simply gone.
    const r = await cluster.cli(['read', '-format=json', `${MOUNT}/task/${id}`]);
    if (r.code !== 0) continue;
    const t = (JSON.parse(r.stdout) as { data: Record<string, unknown> }).data;
    out.push({ id, status: String(t.status), reason: String(t.reason ?? '') });
  }
  return out;
}

/** Every start saw exactly its own container running, and the counts were known. */
function expectNoOverlap(events: readonly RunEvent[]): void {
  const starts = events.filter((e) => e.kind === 'start');
  expect(starts.length).toBeGreaterThan(0);
  // Never a second running container of the mount at a start (the caller itself may already be
  // listed or, under load, not yet), and the count works: most starts saw their own container.
  expect(starts.filter((e) => e.running < 0 || e.running > 1)).toEqual([]);
  expect(starts.filter((e) => e.running === 1).length).toBeGreaterThanOrEqual(starts.length / 2);
  // And by the marker's own record: no run starts between another run's start and its stop.
  const open = new Set<string>();
  for (const e of events) {
    if (e.kind === 'stop') {
      open.delete(e.run);
      continue;
    }
    const stillRunning = [...open].filter((run) =>
      events.some((x) => x.kind === 'stop' && x.run === run && x.at > e.at),
    );
    expect(stillRunning).toEqual([]);
    open.add(e.run);
  }
}

beforeAll(async () => {
  marker = await startRunMarker();
  home = await createGpgHome();
  key = await generateKey(home, { name: 'Deployer', email: 'd@example.test' });
  repo = await createRepoPair();
  await signedCommit('first\n');
  cluster = await startOpenBaoCluster(exe, { mounts: [MOUNT] });
  await cluster.must([
    'write',
    `${MOUNT}/configure/trusted_pgp_public_key`,
    'name=deployer',
    `public_key=${await exportPublicKey(home, key)}`,
  ]);
  await cluster.must([
    'write',
    `${MOUNT}/configure`,
    `git_repo_url=file://${repo.origin}`,
    'git_branch_name=main',
    'git_poll_period=1h',
    'required_number_of_verified_signatures_on_commit=1',
    `docker_image=${image}`,
    `commands=${JSON.stringify([marker.command(2)])}`,
  ]);
  await waitFor('the mount id in a plugin log', async () => (lane = mountLane()) !== '', 30_000);
  marker.watchMount(lane);
  // Losing a node is only survivable once autopilot has promoted both joiners to voters.
  await cluster.waitTolerant();
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  await marker?.close();
  await repo?.cleanup();
  await home?.cleanup();
  if (lane) {
    const left = containersOfMount();
    if (left.length > 0) execFileSync('docker', ['rm', '-f', ...left]);
  }
});

describe('the plugin on a three-node OpenBao cluster', () => {
  it('writes and reads through any node: standbys forward writes and serve reads', async () => {
    const active = await cluster.active();
    const standbys = cluster.nodes.filter((n) => n !== active);
    expect(standbys).toHaveLength(2);
    for (const [i, n] of cluster.nodes.entries()) {
      const r = await cluster.cliAt(n, [
        'write',
        `${MOUNT}/configure/vault_request/req-${i}`,
        `path=/v1/secret/data/r${i}`,
        'method=GET',
        'wrap_ttl=1m',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    for (const n of cluster.nodes) {
      for (const i of [0, 1, 2]) {
        // A standby reads its own replica, which may trail the active node by a moment.
        await waitFor(`req-${i} through ${n.id}`, async () => {
          const r = await cluster.cliAt(n, [
            'read',
            '-field=path',
            `${MOUNT}/configure/vault_request/req-${i}`,
          ]);
          return r.code === 0 && r.stdout.trim() === `/v1/secret/data/r${i}`;
        });
      }
    }
    // The work runs on the active node only: no standby's plugin ever won the mount's lease.
    for (const n of standbys) {
      const log = existsSync(n.pluginLogFile) ? readFileSync(n.pluginLogFile, 'utf8') : '';
      expect(log).not.toContain('"lease won"');
      expect(log).toContain('"setup done"');
    }
    for (const i of [0, 1, 2]) {
      await cluster.must(['delete', `${MOUNT}/configure/vault_request/req-${i}`]);
    }
  });

  it('20 signed pushes, the active node killed -9 three times mid-run: every commit ran, never two at once', async () => {
    const kills = new Set([4, 10, 16]);
    const commits: string[] = [];
    const before = marker.events.length;
    // Tasks the new active node found RUNNING after a kill and canceled.
    const recovered = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const tip = await signedCommit(`push ${i}\n`);
      commits.push(tip);
      // On a kill round the run's start call waits for its answer: the kill lands mid-run.
      const release = kills.has(i) ? marker.holdNextStart(tip) : undefined;
      await pollNow();
      await marker.when(started(tip));
      if (!release) continue;
      const victim = await cluster.active();
      await cluster.kill(victim);
      release();
      // The new active node cancels the orphaned task, sweeps its container and runs it again.
      await marker.when(stopped(tip), 180_000);
      // At least one task more was found RUNNING and canceled by a new holder (a second election
      // right after the kill can leave one more: its Cleanup could no longer write).
      const had = recovered.size;
      for (const t of await tasks()) {
        if (t.status === 'CANCELED' && t.reason === 'plugin restarted') recovered.add(t.id);
      }
      expect(recovered.size).toBeGreaterThan(had);
      await cluster.restart(victim);
      await cluster.waitTolerant();
    }
    const last = commits.at(-1) ?? '';
    await waitFor(
      'the last tip to be deployed',
      async () => (await readData(`${MOUNT}/status`)).last_successful_commit === last,
      180_000,
    );
    const events = marker.events.slice(before);
    for (const c of commits)
      expect(events.some(stopped(c)), `commit ${c} ran to its end`).toBe(true);
    // At least the three killed runs started and never stopped.
    const unfinished = events.filter(
      (e) => e.kind === 'start' && !events.some((x) => x.kind === 'stop' && x.run === e.run),
    );
    expect(unfinished.length).toBeGreaterThanOrEqual(3);
    expectNoOverlap(events);
    await waitFor(
      'the mount to be idle',
      async () => !(await readData(`${MOUNT}/status`)).running_task,
    );
    expect((await tasks()).filter((t) => t.status === 'RUNNING')).toEqual([]);
    expect(recovered.size).toBeGreaterThanOrEqual(3);
    await waitFor(
      'no container of the mount',
      async () => containersOfMount().length === 0,
      30_000,
    );
  }, 900_000);

  it('bao operator step-down mid-run: the run is stopped and released, the next active node reruns it', async () => {
    const before = marker.events.length;
    const tip = await signedCommit('step-down\n');
    const release = marker.holdNextStart(tip);
    await pollNow();
    await marker.when(started(tip));
    const old = await cluster.stepDown();
    release();
    await marker.when(stopped(tip), 120_000);
    expect((await cluster.active()).id).not.toBe(old.id);
    await waitFor(
      'the tip to be deployed',
      async () => (await readData(`${MOUNT}/status`)).last_successful_commit === tip,
      60_000,
    );
    const events = marker.events.slice(before);
    expectNoOverlap(events);
    // Cleanup on the stepping-down node cancelled its own run (it could still write).
    const now = await tasks();
    expect(now.filter((t) => t.status === 'RUNNING')).toEqual([]);
    expect(now.filter((t) => t.status === 'CANCELED').map((t) => t.reason)).toContain(
      'plugin stopped (unmount, reload or seal)',
    );
    await waitFor(
      'no container of the mount',
      async () => containersOfMount().length === 0,
      30_000,
    );
  }, 300_000);
});
