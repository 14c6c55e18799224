/**
 * The load generator of benchmark 5, run as a child process (so it does not share the event loop
 * of the service under test): autocannon against one URL with a fixed signed body, optionally a
 * distinct X-GitHub-Delivery id per request. Prints a JSON summary on stdout.
 *
 *   npx tsx bench/load.ts '<json LoadSpec>'
 */
import autocannon from 'autocannon';

/** What to send. */
export interface LoadSpec {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  /** Give every request its own X-GitHub-Delivery id. */
  readonly distinctIds: boolean;
  readonly seconds: number;
  readonly connections: number;
}

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
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  let n = 0;
  const prefix = `${process.pid}-${Date.now()}`;
  const r = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    requests: [
      {
        method: 'POST',
        headers: spec.headers,
        body: spec.body,
        ...(spec.distinctIds
          ? {
              setupRequest: (req) => ({
                ...req,
                headers: { ...(req.headers ?? {}), 'x-github-delivery': `${prefix}-${++n}` },
              }),
            }
          : {}),
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
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
