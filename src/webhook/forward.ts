/**
 * Fan-out: a verified delivery is forwarded byte-identical, with the headers that let the
 * backend verify it again, to every backend of the endpoint — concurrently, each with its own
 * timeout and bounded retries with exponential backoff (network errors, timeouts and 5xx only).
 * Forwarding never delays the sender's 202: it runs in the background, but every send is tracked
 * so shutdown (and tests) can await `idle()`.
 */
import type { Logger } from '../logging.js';
import { forwardedHeaders } from './sources.js';
import type { BackendCounters, ForwardStats, WebhookHeaders, WebhookSource } from './types.js';

/** Tunables of forwarding. */
export interface ForwardOptions {
  /** Per-attempt timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Attempts per backend and delivery, first one included (default 3). */
  readonly attempts?: number;
  /** Delay before the second attempt; doubles each time (default 200 ms). */
  readonly backoffMs?: number;
}

/**
 * One backend of an endpoint: its URL (used only to send) and the label that names it in logs
 * and metrics — `<mount>/<endpoint>#<n>`, never the URL, whose path may be the only credential
 * (a Docker Hub-style `/hook/<token>`).
 */
export interface ForwardTarget {
  readonly url: string;
  readonly label: string;
}

/** The label of the `n`-th (1-based) backend of endpoint `name` of `mount`. */
export function backendLabel(mount: string, name: string, n: number): string {
  return `${mount}/${name}#${n}`;
}

/** Forwards deliveries and counts the outcome per backend label. */
export interface Forwarder extends ForwardStats {
  /** Start forwarding in the background; returns at once. */
  forward(
    endpoint: string,
    backends: readonly ForwardTarget[],
    source: WebhookSource,
    headers: WebhookHeaders,
    body: Buffer,
  ): void;
  /** Sends still in flight (including retries waiting for their backoff). */
  pending(): number;
  /** Resolves when nothing is in flight (shutdown, tests). */
  idle(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Attempt = { ok: true } | { ok: false; retry: boolean; detail: string };

async function attemptOnce(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<Attempt> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, retry: res.status >= 500, detail: `status ${res.status}` };
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: unknown } };
    const detail = err.name === 'TimeoutError' ? 'timeout' : String(err.cause?.code ?? err.name);
    return { ok: false, retry: true, detail };
  }
}

/** Create a forwarder (one per service; no module-level state). */
export function createForwarder(logger: Logger, opts: ForwardOptions = {}): Forwarder {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const attempts = Math.max(1, opts.attempts ?? 3);
  const backoffMs = opts.backoffMs ?? 200;
  const counters = new Map<string, { attempts: number; successes: number; failures: number }>();
  const inFlight = new Set<Promise<void>>();

  function counter(key: string): { attempts: number; successes: number; failures: number } {
    let c = counters.get(key);
    if (!c) {
      c = { attempts: 0, successes: 0, failures: 0 };
      counters.set(key, c);
    }
    return c;
  }

  async function send(
    endpoint: string,
    target: ForwardTarget,
    headers: Record<string, string>,
    body: Buffer,
  ) {
    const { url, label: key } = target;
    const c = counter(key);
    let last: Attempt = { ok: false, retry: true, detail: 'not attempted' };
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(backoffMs * 2 ** (i - 1));
      c.attempts++;
      last = await attemptOnce(url, headers, body, timeoutMs);
      if (last.ok || !last.retry) break;
    }
    if (last.ok) {
      c.successes++;
      logger.debug({ endpoint, backend: key }, 'webhook forwarded');
    } else {
      c.failures++;
      logger.warn({ endpoint, backend: key, detail: last.detail }, 'webhook forwarding failed');
    }
  }

  return {
    forward(endpoint, backends, source, headers, body) {
      const fwdHeaders = forwardedHeaders(source, headers);
      const seen = new Set<string>();
      for (const target of backends) {
        if (seen.has(target.url)) continue;
        seen.add(target.url);
        const p: Promise<void> = send(endpoint, target, fwdHeaders, body)
          .catch((e: unknown) =>
            logger.error({ endpoint, error: String(e) }, 'webhook forwarding crashed'),
          )
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    },
    pending: () => inFlight.size,
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    stats() {
      const out: Record<string, BackendCounters> = {};
      for (const [k, v] of counters) out[k] = { ...v };
      return out;
    },
  };
}
