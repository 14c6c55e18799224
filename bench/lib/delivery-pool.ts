/**
 * The signed GitHub push deliveries benchmark 5 sends, made the same way in the load generator
 * (bench/load.ts) and in the benchmark itself (which sends the replayed one once before its load,
 * so that every request of that load is a replay). Deterministic: the same seed gives the same
 * bodies, so the service and the baseline are sent identical requests.
 */
import { createHash } from 'node:crypto';
import { githubPushHeaders } from './hooks.js';

/** The environment variable that carries the webhook secret to the load generator. */
export const SECRET_ENV = 'FG_BENCH_WEBHOOK_SECRET';

/** What to send. */
export interface LoadSpec {
  readonly url: string;
  /**
   * `distinct`: every request its own body, signature and delivery id (a pool of `poolSize`,
   * see `poolReused`). `replay`: one signed delivery — body, signature and id — sent verbatim.
   */
  readonly mode: 'distinct' | 'replay';
  /** Seeds the bodies' commit ids (and the replayed delivery's id). */
  readonly seed: string;
  /** The `before` of every body (the branch's current tip). */
  readonly before: string;
  readonly poolSize: number;
  readonly seconds: number;
  readonly connections: number;
}

/** One signed delivery. */
export interface SignedDelivery {
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** The `i`-th body of `seed`: a push of refs/heads/main from `before` to a commit id of its own. */
export function pushBody(seed: string, i: number, before: string): string {
  const after = createHash('sha1').update(`${seed}:${i}`).digest('hex');
  return JSON.stringify({
    ref: 'refs/heads/main',
    before,
    after,
    repository: { full_name: 'o/r' },
  });
}

/** The pool of signed deliveries a spec sends. */
export function signedPool(
  spec: Pick<LoadSpec, 'mode' | 'seed' | 'before' | 'poolSize'>,
  secret: string,
): SignedDelivery[] {
  const size = spec.mode === 'replay' ? 1 : spec.poolSize;
  const pool: SignedDelivery[] = [];
  for (let i = 0; i < size; i++) {
    const body = pushBody(spec.seed, i, spec.before);
    pool.push({ body, headers: githubPushHeaders(secret, body, `${spec.seed}-${i}`) });
  }
  return pool;
}
