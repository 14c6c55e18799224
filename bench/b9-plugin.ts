/**
 * Benchmark 9: the cost of running inside OpenBao. A read of `configure` through OpenBao and the
 * plugin (HTTP to OpenBao → gRPC to the plugin process → brokered storage back in OpenBao) against
 * a KV v2 read on the same OpenBao (the baseline: OpenBao's own cheapest path), and the same read
 * on the standalone service; plus the idle resident memory of one plugin process against an
 * empty Node process. Reads are sequential HTTP GETs with the root token after a warm-up.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { buildPlugin } from '../scripts/build-plugin.js';
import { ROOT } from '../test/helpers/bench.js';
import { commitFile, createRepoPair, push } from '../test/helpers/git-repo.js';
import { waitFor } from '../test/helpers/net.js';
import { startPluginBao } from '../test/helpers/plugin-bao.js';
import { absolute, lowerIsBetter, type BenchResult } from './lib/report.js';
import { startBenchService } from './lib/service.js';
import { summarize, type Summary } from './lib/stats.js';

const MOUNT = 'flant_gitops';

async function readLatencies(url: string, token: string, n: number): Promise<Summary> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { 'x-vault-token': token } });
    await res.text();
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < Math.min(50, n); i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await once());
  return summarize(samples);
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Median of `count` RSS samples one second apart. */
async function idleRss(pid: number, count: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    xs.push(await rssKiB(pid));
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return summarize(xs).median;
}

/** Run benchmark 9 with `n` reads per path and `rssSamples` memory samples. */
export async function benchPlugin(
  image: string,
  n: number,
  rssSamples: number,
): Promise<BenchResult> {
  const started = performance.now();
  const exe = join(ROOT, '.cache', 'bench-plugin', 'flant_gitops');
  await buildPlugin(exe);
  const b = await startPluginBao(exe);
  const repo = await createRepoPair();
  const svc = await startBenchService([MOUNT]);
  const idleNode = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
  });
  try {
    await commitFile(repo, 'a.txt', 'a\n');
    await push(repo);
    await b.must(['secrets', 'enable', `-path=${MOUNT}`, 'flant_gitops']);
    const fields = {
      git_repo_url: `file://${repo.origin}`,
      git_branch_name: 'main',
      git_poll_period: '1h',
      docker_image: image,
      commands: '["true"]',
    };
    await b.must([
      'write',
      `${MOUNT}/configure`,
      ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
    ]);
    await svc.api('PUT', `${MOUNT}/configure`, { ...fields, commands: ['true'] });
    await b.must([
      'kv',
      'put',
      '-mount=secret',
      'bench',
      ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
    ]);
    // Let the first poll (one run of `true`) finish on both before measuring.
    for (const read of [
      async () =>
        (await b.must(['read', '-field=last_poll_outcome', `${MOUNT}/status`])) === 'deployed',
      async () => (await svc.api('GET', `${MOUNT}/status`)).last_poll_outcome === 'deployed',
    ]) {
      await waitFor('the first poll to finish', read, 60_000);
    }
    const plugin = await readLatencies(`${b.addr}/v1/${MOUNT}/configure`, b.token, n);
    const kv = await readLatencies(`${b.addr}/v1/secret/data/bench`, b.token, n);
    const service = await readLatencies(`${svc.addr}/v1/${MOUNT}/configure`, svc.token, n);
    const pid = b.pluginPids()[0];
    if (pid === undefined) throw new Error('no plugin process');
    const [pluginRss, nodeRss] = await Promise.all([
      idleRss(pid, rssSamples),
      idleRss(idleNode.pid ?? 0, rssSamples),
    ]);
    return {
      id: '9',
      title: 'Inside OpenBao: a configure read through the plugin, and one plugin process idle',
      method:
        `${n} sequential GETs per path after 50 warm-up reads, root token, one client; ` +
        `RSS: median of ${rssSamples} samples 1 s apart of the idle plugin process (mount ` +
        'configured, first poll done) and of an empty Node process.',
      rows: [
        lowerIsBetter(
          'configure read via OpenBao + plugin (median)',
          'ms',
          plugin.median,
          kv.median,
          'KV v2 read, same OpenBao',
          undefined,
        ),
        lowerIsBetter(
          'configure read via OpenBao + plugin (p95)',
          'ms',
          plugin.p95,
          kv.p95,
          'KV v2 read, same OpenBao',
          undefined,
        ),
        lowerIsBetter(
          'configure read on the standalone service (median)',
          'ms',
          service.median,
          kv.median,
          'KV v2 read, same OpenBao',
          undefined,
        ),
        absolute('idle RSS of one plugin process', 'MiB', pluginRss / 1024, '(info)', undefined, {
          value: nodeRss / 1024,
          label: 'empty Node process',
        }),
      ],
      notes: [
        'The plugin read crosses OpenBao (HTTP, ACL, audit) then gRPC to the plugin and a brokered storage read back in OpenBao; the KV read stays inside OpenBao.',
      ],
      raw: { plugin, kv, service, pluginRssKiB: pluginRss, nodeRssKiB: nodeRss },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    idleNode.kill();
    await svc.stop();
    await b.stop();
    await repo.cleanup();
  }
}
