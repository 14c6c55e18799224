/**
 * Benchmark 5: the webhook receiver under load while a run is in progress (the mount's command is
 * `sleep 600`). autocannon (in a child process) sends verified GitHub push deliveries to the
 * service in-process. Full path: every request a distinct body (its own `after` commit id), its
 * own signature and delivery id — verify, parse, de-dup (both keys new), coalesced poll request.
 * Duplicate path: one signed delivery replayed verbatim (answered "duplicate"). The signed bodies
 * are precomputed before each load, so the load side does no HMAC while it runs. Baseline: a bare
 * node:http server in the same process that reads the body, computes the same HMAC over the same
 * bodies and answers 202. The service's own outcome counters confirm which path each load took.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../test/helpers/bench.js';
import { createRepoPair, commitFile, push } from '../test/helpers/git-repo.js';
import { waitFor } from '../test/helpers/net.js';
import type { LoadResult } from './load.js';
import { SECRET_ENV, signedPool, type LoadSpec } from './lib/delivery-pool.js';
import { postDelivery } from './lib/hooks.js';
import { run } from './lib/proc.js';
import { absolute, higherIsBetter, type BenchResult } from './lib/report.js';
import { startBenchService, type BenchService } from './lib/service.js';

const MOUNT = 'flant_gitops';
/**
 * Deliveries per second the pool of distinct bodies is sized for (the bare baseline served ~15,000
 * on 2 idle cores). A load that outruns it starts the pool over: the service's de-dup memory holds
 * the keys of the last 50,000 deliveries only, so a body that comes round again is still new to
 * it — the outcome counters check that, and the notes say how many requests reused a body.
 */
const POOL_RATE = 25_000;

async function load(spec: LoadSpec, secret: string): Promise<LoadResult> {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const out = await run(tsx, [join(ROOT, 'bench', 'load.ts'), JSON.stringify(spec)], {
    env: { ...process.env, [SECRET_ENV]: secret },
  });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult;
  if (r.non2xx !== 0 || r.errors !== 0 || r.ok === 0) {
    throw new Error(`benchmark 5: load against ${spec.url} got ${JSON.stringify(r)}`);
  }
  return r;
}

/** The service's count of GitHub deliveries per outcome (flant_gitops_webhook_deliveries_total). */
async function outcomes(svc: BenchService): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await svc.service.metrics.webhookDeliveries.get()).values) {
    if (v.labels.source === 'github') out[String(v.labels.outcome)] = v.value;
  }
  return out;
}

/** What the service answered during `fn`, per outcome. */
async function counted<T>(
  svc: BenchService,
  fn: () => Promise<T>,
): Promise<{ result: T; accepted: number; duplicate: number }> {
  const before = await outcomes(svc);
  const result = await fn();
  const after = await outcomes(svc);
  const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  return { result, accepted: delta('accepted'), duplicate: delta('duplicate') };
}

/**
 * A bare HTTP server verifying the same HMAC: the floor of a verified delivery. Its key is a
 * KeyObject made once, as the service keeps one per endpoint (a string key costs createHmac about
 * twice as much per delivery, which would flatter the service).
 */
async function startBaseline(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const want = Buffer.from(`sha256=${createHmac('sha256', key).update(body).digest('hex')}`);
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
      commands: JSON.stringify(['sleep 600']),
    });
    await svc.api('POST', `${MOUNT}/configure/webhook/gh`, { source: 'github', secret });
    const hookPath = String((await svc.api('GET', `${MOUNT}/configure/webhook/gh`)).hook_path);
    await svc.api('POST', `${MOUNT}/poll`, {});
    let running = '';
    await waitFor(
      'the sleep 600 run to start',
      async () => {
        running = String((await svc.api('GET', `${MOUNT}/status`)).running_task ?? '');
        return running !== '' && running !== 'null';
      },
      60_000,
    );
    const url = `${svc.addr}${hookPath}`;
    const seed = randomBytes(8).toString('hex');
    const spec = { before: tip, poolSize: seconds * POOL_RATE, seconds, connections };
    const distinct = { ...spec, mode: 'distinct', seed } as const;
    const replay = { ...spec, mode: 'replay', seed: `${seed}-replay` } as const;

    const full = await counted(svc, () => load({ ...distinct, url }, secret));
    if (full.result.ok > full.accepted || full.duplicate !== 0) {
      throw new Error(
        `benchmark 5: distinct bodies were not all accepted (${full.result.ok} answered 2xx, ` +
          `${full.accepted} accepted, ${full.duplicate} duplicate)`,
      );
    }
    // The replayed delivery is sent once first, so every request of its load is a replay.
    const once = signedPool(replay, secret)[0];
    if (once) await postDelivery(url, once.headers, once.body, 'accepted');
    const dup = await counted(svc, () => load({ ...replay, url }, secret));
    if (dup.result.ok > dup.duplicate || dup.accepted !== 0) {
      throw new Error(
        `benchmark 5: the replayed delivery was not always a duplicate (${dup.result.ok} ` +
          `answered 2xx, ${dup.accepted} accepted, ${dup.duplicate} duplicate)`,
      );
    }
    const stillRunning = String((await svc.api('GET', `${MOUNT}/status`)).running_task ?? '');
    const floor = await load({ ...distinct, url: baseline.url }, secret);
    await svc.api('POST', `${MOUNT}/task/${running}/cancel`, {});
    const f = full.result;
    const d = dup.result;
    const label = 'bare node:http + HMAC, same bodies';
    const base = { value: floor.p99Ms, label };
    return {
      id: '5',
      title: 'Webhook receiver under load (run in progress)',
      method:
        `autocannon (child process, ${connections} connections, ${seconds} s per load) → the ` +
        `service in-process on loopback, GitHub endpoint, every request with a valid ` +
        `X-Hub-Signature-256; a run (\`sleep 600\`) of the same mount is in progress, so accepted ` +
        `pushes coalesce into one follow-up poll. The signed bodies are precomputed before each ` +
        `load (no HMAC on the load side while it runs). Full path: every request a distinct ` +
        `body (its own \`after\` commit id), signature and X-GitHub-Delivery, so both de-dup ` +
        `keys (body digest + signature, delivery id) are new and the delivery is accepted. ` +
        `Duplicate path: one signed delivery replayed verbatim, answered "duplicate". The ` +
        `service's own outcome counters confirm each load took its path. Baseline: a bare ` +
        `node:http server in the same process reading the body and checking the same HMAC (its ` +
        `key a KeyObject made once, as the service keeps per endpoint), sent the same distinct ` +
        `bodies.`,
      rows: [
        higherIsBetter(
          'deliveries/s, full path (distinct bodies)',
          '/s',
          f.requestsPerSecond,
          floor.requestsPerSecond,
          label,
          0.8,
        ),
        absolute(
          'deliveries/s ≥ 5,000, full path (distinct bodies)',
          '/s',
          f.requestsPerSecond,
          '≥ 5000/s',
          f.requestsPerSecond >= 5000,
        ),
        absolute(
          'p99 latency, full path (distinct bodies)',
          'ms',
          f.p99Ms,
          '≤ 20 ms',
          f.p99Ms <= 20,
          base,
        ),
        higherIsBetter(
          'deliveries/s, duplicate path (one delivery replayed)',
          '/s',
          d.requestsPerSecond,
          floor.requestsPerSecond,
          label,
          undefined,
        ),
        absolute('p99 latency, duplicate path', 'ms', d.p99Ms, '—', undefined, base),
      ],
      notes: [
        `Outcomes the service counted: full path ${full.accepted} accepted, ${full.duplicate} ` +
          `duplicate (autocannon saw ${f.ok} answers); duplicate path ${dup.accepted} accepted, ` +
          `${dup.duplicate} duplicate (${d.ok} answers).`,
        'Each accepted delivery adds two keys to the de-dup memory (at most 100,000, 10 min); ' +
          'the full path fills it, so from then on each delivery also evicts the oldest key.',
        `The run was still in progress at the end of the service's loads: ${stillRunning === running ? 'yes' : 'no'} (it is canceled afterwards).`,
        ...(f.poolReused > 0
          ? [
              `The full path outran its pool of ${spec.poolSize} bodies: ${f.poolReused} requests ` +
                `reused a body sent ${spec.poolSize} deliveries earlier (no longer in the de-dup ` +
                `memory; the counters above show whether any was a duplicate).`,
            ]
          : []),
        'autocannon and the service share the 2 cores; the baseline suffers the same contention.',
        'Where the full path stands against the bare server (measured apart, 2026-12-02, with ' +
          '--cpu-prof of this benchmark: 11,002 vs 23,925 deliveries/s): the main thread spends ' +
          '~79 µs per full-path delivery against ~31 µs for the bare server. The HTTP handling is ' +
          'the same node:http in both (ordinary deliveries skip fastify). Of the ~48 µs between them, ' +
          "~16 µs is the kernel's loopback send of the reply (writev: ~31 µs per reply against " +
          '~15 µs for the same call — most likely waking autocannon, which shares the 2 cores, ' +
          'for more of the slower replies), ~5 µs the replay hash of the body, and the rest the ' +
          "receiver's own work the baseline does not do: the de-dup memory ~4 µs, the endpoint " +
          'lookup and the rest of the receiver ~5 µs, the delivery metrics ~4 µs, decoding and ' +
          'parsing the payload (JSON, zod) ~4 µs, the fast path and reply ~3 µs.',
      ],
      raw: { full, duplicate: dup, floor },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await baseline.close();
    await svc.stop();
    await repo.cleanup();
  }
}
