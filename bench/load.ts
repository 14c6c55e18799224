/**
 * The load generator of benchmark 5, run as a child process (so it does not share the event loop
 * of the service under test): autocannon against one URL with signed GitHub push deliveries.
 * Before the clock starts it precomputes a pool of signed bodies — `distinct` bodies differ in
 * their `after` commit id, each with its own X-Hub-Signature-256 and X-GitHub-Delivery — so no
 * HMAC runs on the load side while the load lasts. The same `seed` yields the same bodies, so the
 * service and the baseline are sent identical requests. The webhook secret comes in the
 * environment (FG_BENCH_WEBHOOK_SECRET), never on the command line. Prints a JSON summary.
 *
 *   FG_BENCH_WEBHOOK_SECRET=… npx tsx bench/load.ts '<json LoadSpec>'
 */
import autocannon from 'autocannon';
import { SECRET_ENV, signedPool, type LoadSpec } from './lib/delivery-pool.js';

export type { LoadSpec };

/** What came back. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Requests built (sent or in flight at the end). */
  readonly built: number;
  /** Requests that had to reuse a body of the pool (0 unless the pool was too small). */
  readonly poolReused: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  const secret = process.env[SECRET_ENV];
  if (!secret) throw new Error(`${SECRET_ENV} is not set`);
  const pool = signedPool(spec, secret);
  let n = 0;
  let reused = 0;
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [
      {
        method: 'POST',
        // Every mode builds each request from the pool, so the load side costs the same.
        setupRequest: (req) => {
          const i = n++;
          if (i >= pool.length && spec.mode === 'distinct') reused++;
          const d = pool[i % pool.length];
          return d ? { ...req, headers: d.headers, body: d.body } : req;
        },
      },
    ],
  });
  const out: LoadResult = {
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    built: n,
    poolReused: reused,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
