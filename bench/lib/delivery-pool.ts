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
   * `distinct`: every request its own body, signature and delivery id, from a pool of `poolSize`
   * (a load that outruns it starts over, counted in `poolReused`). `replay`: one signed
   * delivery — body, signature and id — sent verbatim.
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

/**
 * The bodies of `seed`: the `i`-th is a push of refs/heads/main from `before` to a commit id of its
 * own (8 hex of the seed's digest + `i` in hex). Built by concatenation: a pool holds hundreds of
 * thousands, and it is made before the load, so its cost only delays the start.
 */
export function pushBodies(seed: string, before: string): (i: number) => string {
  const tag = createHash('sha1').update(seed).digest('hex').slice(0, 8);
  const head = `{"ref":"refs/heads/main","before":${JSON.stringify(before)},"after":"${tag}`;
  const tail = '","repository":{"full_name":"o/r"}}';
  return (i) => `${head}${i.toString(16).padStart(32, '0')}${tail}`;
}

/** The pool of signed deliveries a spec sends. */
export function signedPool(
  spec: Pick<LoadSpec, 'mode' | 'seed' | 'before' | 'poolSize'>,
  secret: string,
): SignedDelivery[] {
  const size = spec.mode === 'replay' ? 1 : spec.poolSize;
  const body = pushBodies(spec.seed, spec.before);
  const pool: SignedDelivery[] = [];
  for (let i = 0; i < size; i++) {
    const b = body(i);
    pool.push({ body: b, headers: githubPushHeaders(secret, b, `${spec.seed}-${i}`) });
  }
  return pool;
}
