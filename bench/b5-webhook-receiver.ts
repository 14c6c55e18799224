/**
 * Benchmark 5: the webhook receiver under load while a run is in progress (the mount's command is
 * `sleep 60`). autocannon (in a child process) sends verified GitHub push deliveries to the
 * service in-process: with distinct delivery ids (full path: verify, parse, de-dup, coalesced poll
 * request) and with one repeated id (de-dup path). Baseline: a bare node:http server in the same
 * process that reads the body, computes the same HMAC and answers 202.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../test/helpers/bench.js';
import { createRepoPair, commitFile, push } from '../test/helpers/git-repo.js';
import { waitFor } from '../test/helpers/net.js';
import type { LoadResult, LoadSpec } from './load.js';
import { run } from './lib/proc.js';
import { absolute, higherIsBetter, type BenchResult } from './lib/report.js';
import { startBenchService } from './lib/service.js';

const MOUNT = 'flant_gitops';

async function load(spec: LoadSpec): Promise<LoadResult> {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const out = await run(tsx, [join(ROOT, 'bench', 'load.ts'), JSON.stringify(spec)], {
    env: process.env,
  });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult;
  if (r.non2xx !== 0 || r.errors !== 0 || r.ok === 0) {
    throw new Error(`benchmark 5: load against ${spec.url} got ${JSON.stringify(r)}`);
  }
  return r;
}

/** A bare HTTP server verifying the same HMAC: the floor of a verified delivery. */
async function startBaseline(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const got = Buffer.from(String(req.headers['x-hub-signature-256'] ?? ''));
      const ok = got.length === want.length && timingSafeEqual(got, want);
      res.writeHead(ok ? 202 : 403, { 'content-type': 'application/json' });
      res.end(ok ? '{"status":"accepted"}' : '{"errors":[]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Run benchmark 5: each load lasts `seconds` with `connections` connections. */
export async function benchWebhookReceiver(
  image: string,
  seconds: number,
  connections: number,
): Promise<BenchResult> {
  const started = performance.now();
  const repo = await createRepoPair();
  const svc = await startBenchService([MOUNT]);
  const secret = randomBytes(24).toString('hex');
  const baseline = await startBaseline(secret);
  try {
    const tip = await commitFile(repo, 'a.txt', 'x\n');
    await push(repo);
    await svc.api('POST', `${MOUNT}/configure`, {
      git_repo_url: `file://${repo.origin}`,
      git_branch_name: 'main',
      git_poll_period: '1h',
      required_number_of_verified_signatures_on_commit: '0',
      docker_image: image,
      commands: JSON.stringify(['sleep 60']),
    });
    await svc.api('POST', `${MOUNT}/configure/webhook/gh`, { source: 'github', secret });
    const hookPath = String((await svc.api('GET', `${MOUNT}/configure/webhook/gh`)).hook_path);
    await svc.api('POST', `${MOUNT}/poll`, {});
    let running = '';
    await waitFor(
      'the sleep 60 run to start',
      async () => {
        running = String((await svc.api('GET', `${MOUNT}/status`)).running_task ?? '');
        return running !== '' && running !== 'null';
      },
      60_000,
    );
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      after: tip,
      repository: { full_name: 'o/r' },
    });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': 'fixed-delivery-id',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    };
    const spec = { body, headers, seconds, connections };
    const url = `${svc.addr}${hookPath}`;
    const full = await load({ ...spec, url, distinctIds: true });
    const dedup = await load({ ...spec, url, distinctIds: false });
    const floor = await load({ ...spec, url: baseline.url, distinctIds: true });
    const stillRunning = String((await svc.api('GET', `${MOUNT}/status`)).running_task ?? '');
    await svc.api('POST', `${MOUNT}/task/${running}/cancel`, {});
    const base = { value: floor.p99Ms, label: 'bare node:http + HMAC' };
    return {
      id: '5',
      title: 'Webhook receiver under load (run in progress)',
      method:
        `autocannon (child process, ${connections} connections, ${seconds} s per load) → the ` +
        `service in-process on loopback, GitHub endpoint, every request with a valid ` +
        `X-Hub-Signature-256; a run (\`sleep 60\`) of the same mount is in progress, so accepted ` +
        `pushes coalesce into one follow-up poll. Full path: a distinct X-GitHub-Delivery per ` +
        `request. De-dup path: one repeated id (answered "duplicate"). Baseline: a bare ` +
        `node:http server in the same process computing the same HMAC.`,
      rows: [
        higherIsBetter(
          'deliveries/s, full path',
          '/s',
          full.requestsPerSecond,
          floor.requestsPerSecond,
          'bare node:http + HMAC',
          undefined,
        ),
        absolute(
          'deliveries/s ≥ 5,000, full path',
          '/s',
          full.requestsPerSecond,
          '≥ 5000/s',
          full.requestsPerSecond >= 5000,
        ),
        absolute('p99 latency, full path', 'ms', full.p99Ms, '≤ 20 ms', full.p99Ms <= 20, base),
        higherIsBetter(
          'deliveries/s, de-dup path',
          '/s',
          dedup.requestsPerSecond,
          floor.requestsPerSecond,
          'bare node:http + HMAC',
          undefined,
        ),
        absolute('p99 latency, de-dup path', 'ms', dedup.p99Ms, '≤ 20 ms', dedup.p99Ms <= 20, base),
      ],
      notes: [
        `The run was still in progress at the end of the load: ${stillRunning === running ? 'yes' : 'no'} (it is canceled afterwards).`,
        'autocannon and the service share the 2 cores; the baseline suffers the same contention.',
      ],
      raw: { full, dedup, floor },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await baseline.close();
    await svc.stop();
    await repo.cleanup();
  }
}
