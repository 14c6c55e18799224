/**
 * Benchmark 6: resident memory and CPU of the idle service with 1 and with 100 mounts, each
 * polling a small local repository every minute. The real `node dist/main.js serve` runs as a
 * child process (build first); every mount is configured through the API; after settling, VmRSS
 * and utime+stime (plus reaped children: the git calls) are sampled from /proc over a window.
 * Baseline: an empty Node process (`setInterval`) sampled the same way at the same time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hermeticEnv, ROOT } from '../test/helpers/bench.js';
import { commitFile, createRepoPair, push } from '../test/helpers/git-repo.js';
import { freePort, waitFor } from '../test/helpers/net.js';
import { gitHostOf, procSample, run, type ProcSample } from './lib/proc.js';
import { absolute, type BenchResult } from './lib/report.js';
import { callApi } from './lib/service.js';
import { shippedNodeFlags } from './lib/shipped-node.js';
import { summarize } from './lib/stats.js';

interface Proc {
  readonly label: string;
  readonly child: ChildProcess;
  readonly dir?: string;
}

/** Start `node dist/main.js serve` with `mounts` and configure each one through the API. */
async function startServe(
  label: string,
  mounts: number,
  repoUrl: string,
  tip: string,
  image: string,
): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), 'fg-bench-b6-'));
  const port = await freePort();
  const names = Array.from({ length: mounts }, (_, i) => `m${i + 1}`);
  const child = spawn(
    process.execPath,
    [
      ...shippedNodeFlags(),
      join(ROOT, 'dist', 'main.js'),
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dir,
      '--container-network',
      'host',
      '--log-level',
      'warn',
      '--local-repo-root',
      tmpdir(),
      ...names.flatMap((m) => ['--mount', m]),
    ],
    { env: hermeticEnv(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const addr = `http://127.0.0.1:${port}`;
  const tokenFile = join(dir, 'root-token');
  await waitFor('the service to listen', async () => (await fetch(`${addr}/healthz`)).ok, 30_000);
  const token = (await readFile(tokenFile, 'utf8')).trim();
  for (const m of names) {
    await callApi(addr, token, 'POST', `${m}/configure`, {
      git_repo_url: repoUrl,
      git_branch_name: 'main',
      git_poll_period: '60s',
      required_number_of_verified_signatures_on_commit: '0',
      initial_last_successful_commit: tip,
      docker_image: image,
      commands: JSON.stringify(['true']),
    });
  }
  return { label, child, dir };
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode === null) {
    const exited = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (p.child.exitCode === null) p.child.kill('SIGKILL');
  }
  if (p.dir) await rm(p.dir, { recursive: true, force: true });
}

/** Run benchmark 6: settle `settleS` seconds, then sample every 5 s for `windowS` seconds. */
export async function benchMemory(
  image: string,
  settleS: number,
  windowS: number,
): Promise<BenchResult> {
  const started = performance.now();
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) {
    throw new Error('benchmark 6 needs dist/main.js: run `npm run build` (make bench does)');
  }
  const hz = Number((await run('getconf', ['CLK_TCK'])).trim()) || 100;
  const repo = await createRepoPair();
  const procs: Proc[] = [];
  try {
    const tip = await commitFile(repo, 'a.txt', 'small\n');
    await push(repo);
    const url = `file://${repo.origin}`;
    procs.push({
      label: 'empty node process',
      child: spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }),
    });
    procs.push(await startServe('1 mount', 1, url, tip, image));
    procs.push(await startServe('100 mounts', 100, url, tip, image));
    await new Promise((r) => setTimeout(r, settleS * 1000));
    // Each service's git host (the child that runs its git calls, started by its first poll)
    // is sampled beside it: its RSS is the service's too, and its CPU includes its git children.
    const hosts = new Map<string, number>();
    for (const p of procs.slice(1)) {
      const host = p.child.pid === undefined ? undefined : await gitHostOf(p.child.pid);
      if (host === undefined) throw new Error(`benchmark 6: ${p.label} has no git host`);
      hosts.set(`${p.label}, git host`, host);
    }
    const pids = new Map<string, () => number | undefined>([
      ...procs.map(
        (p) => [p.label, () => (p.child.exitCode === null ? p.child.pid : undefined)] as const,
      ),
      ...[...hosts].map(([label, pid]) => [label, () => pid] as const),
    ]);
    const series = new Map<string, ProcSample[]>([...pids.keys()].map((l) => [l, []]));
    const steps = Math.max(2, Math.round(windowS / 5) + 1);
    for (let i = 0; i < steps; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 5000));
      for (const [label, pidOf] of pids) {
        const pid = pidOf();
        if (pid === undefined) throw new Error(`benchmark 6: ${label} exited`);
        series.get(label)?.push(await procSample(pid));
      }
    }
    const stats = new Map(
      [...series].map(([label, s]) => {
        const first = s[0];
        const last = s[s.length - 1];
        const secs = (steps - 1) * 5 || 1;
        const cpu = (k: 'selfTicks' | 'childTicks'): number =>
          first && last ? ((last[k] - first[k]) / hz / secs) * 100 : Number.NaN;
        return [
          label,
          {
            rssMiB: summarize(s.map((x) => x.rssKiB / 1024)),
            cpuSelfPct: cpu('selfTicks'),
            cpuChildrenPct: cpu('childTicks'),
          },
        ];
      }),
    );
    const get = (l: string) => {
      const v = stats.get(l);
      if (!v) throw new Error(`benchmark 6: no samples of ${l}`);
      return v;
    };
    const empty = get('empty node process');
    const one = get('1 mount');
    const hundred = get('100 mounts');
    const oneHost = get('1 mount, git host');
    const hundredHost = get('100 mounts, git host');
    const emptyBase = { value: empty.rssMiB.median, label: 'empty node process' };
    return {
      id: '6',
      title: 'Idle service: resident memory and CPU, 1 and 100 mounts',
      method:
        `\`node ${shippedNodeFlags().join(' ')} dist/main.js serve\` (the image's NODE_OPTIONS) ` +
        `as a child process, each mount configured through the API ` +
        `(git_poll_period=60s, a one-commit local repository, N = 0, commands \`true\`, the tip ` +
        `given as initial_last_successful_commit so polls are up to date and nothing runs). After ` +
        `${settleS} s of settling, /proc/<pid>/status VmRSS and /proc/<pid>/stat CPU are sampled ` +
        `every 5 s for ${(steps - 1) * 5} s (about one poll period of every mount). The 1- and ` +
        `100-mount services and the empty Node process run side by side.`,
      rows: [
        absolute('RSS, 1 mount (median)', 'MiB', one.rssMiB.median, '—', undefined, emptyBase),
        absolute(
          'RSS, 100 mounts (median)',
          'MiB',
          hundred.rssMiB.median,
          '≤ 80 MB (76.3 MiB)',
          hundred.rssMiB.median * 2 ** 20 <= 80e6,
          emptyBase,
        ),
        absolute(
          'RSS, 100 mounts (max)',
          'MiB',
          hundred.rssMiB.max,
          '≤ 80 MB (76.3 MiB)',
          hundred.rssMiB.max * 2 ** 20 <= 80e6,
          emptyBase,
        ),
        absolute('CPU, 1 mount (node itself)', '% of a core', one.cpuSelfPct, '—', undefined),
        absolute(
          'CPU, 100 mounts (node itself)',
          '% of a core',
          hundred.cpuSelfPct,
          '—',
          undefined,
          { value: one.cpuSelfPct, label: '1 mount' },
        ),
        absolute(
          'RSS, 100 mounts, its git host (median)',
          'MiB',
          hundredHost.rssMiB.median,
          '—',
          undefined,
          emptyBase,
        ),
        absolute(
          'CPU, 100 mounts (git host, with its git children)',
          '% of a core',
          hundredHost.cpuSelfPct + hundredHost.cpuChildrenPct + hundred.cpuChildrenPct,
          '—',
          undefined,
        ),
      ],
      notes: [
        `Empty node process: ${empty.rssMiB.median.toFixed(1)} MiB RSS, ${empty.cpuSelfPct.toFixed(2)} % CPU.`,
        `1 mount: its git host ${oneHost.rssMiB.median.toFixed(1)} MiB RSS, ` +
          `${(oneHost.cpuSelfPct + oneHost.cpuChildrenPct).toFixed(2)} % CPU with its git children. ` +
          'The rows above give the service process alone; git runs in its git host (a second, ' +
          'small node process: a fork of git from it stalls nothing), so the whole service is the ' +
          'two together.',
        'What the resident set is made of (measured apart, 2026-12-02, /proc/<pid>/smaps and heap ' +
          'snapshots): ~52–57 MiB are pages of the node binary itself (code and read-only data ' +
          'the process touched; an empty node process has ~36 MiB of them), of which ~5 MiB are ' +
          "ICU data and ~1.5 MiB code touched by node-cron's Intl.DateTimeFormat at every tick " +
          '(with the same schedule from a plain timer the 100-mount median is ~7 MiB lower); the ' +
          'V8 heap holds ~18 MiB at 1 mount, half of it the source text of the loaded modules ' +
          '(zod, fastify with ajv, prom-client, …). dockerode, openpgp.js, node-vault and yaml are ' +
          'not loaded by an idle service; serve sets --optimize-for-size (~10 MiB less at 100 ' +
          'mounts).',
      ],
      raw: Object.fromEntries(stats),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const p of procs) await stopProc(p);
    await repo.cleanup();
  }
}
