/**
 * Metrics as decorators at our own interfaces: each wrapper takes an implementation (git mirror,
 * container runner, Vault access, signature policy, webhook receiver, mount runtime), counts and
 * times what passes through it, and returns the same interface. No adapter and no pipeline file
 * knows about metrics; service.ts wraps the real parts once, tests wrap fakes the same way.
 * Label values are mounts, fixed outcome words, webhook sources and backend labels
 * (`<mount>/<endpoint>#<n>`) only — never a secret, a token, a URL or a URL's path (a hook path
 * may be the only credential of a backend).
 */
import type { GitMirror, GitMirrorFactory } from './git/types.js';
import { isAppError } from './errors.js';
import type { Metrics } from './metrics.js';
import type { MountRuntime } from './pipeline/mount-runtime.js';
import type { SignaturePolicy } from './pipeline/run-context.js';
import type { PollResult } from './pipeline/poll-state.js';
import type { ContainerRunner } from './runner/types.js';
import type { Store } from './storage/store.js';
import type { SecretsClient, VaultAccessService } from './vault/types.js';
import type { WebhookReceiver, WebhookReply } from './webhook/receiver.js';
import type { EndpointLookup, ForwardStats } from './webhook/types.js';

/** Seconds since an arbitrary origin; injected so tests can drive durations. */
export type SecondsClock = () => number;

const monotonicSeconds: SecondsClock = () => performance.now() / 1000;

/** Time `fn` and hand the elapsed seconds to `done`, whether it resolves or throws. */
async function timed<T>(
  clock: SecondsClock,
  fn: () => Promise<T>,
  done: (seconds: number, result: { ok: true; value: T } | { ok: false }) => void,
): Promise<T> {
  const start = clock();
  let value: T;
  try {
    value = await fn();
  } catch (e) {
    done(clock() - start, { ok: false });
    throw e;
  }
  done(clock() - start, { ok: true, value });
  return value;
}

/**
 * A mirror that counts and times its network calls: every `lsRemote`, and only those `fetch`
 * calls that really ran git (the mirror's own `counters.fetch` moved; a no-op fetch is free).
 */
export function instrumentMirror(
  mirror: GitMirror,
  metrics: Metrics,
  mount: string,
  clock: SecondsClock = monotonicSeconds,
): GitMirror {
  const record = (call: 'ls_remote' | 'fetch', seconds: number): void => {
    metrics.gitCalls.inc({ mount, call });
    metrics.gitCallSeconds.observe({ call }, seconds);
  };
  return {
    lsRemote: () =>
      timed(
        clock,
        () => mirror.lsRemote(),
        (s) => record('ls_remote', s),
      ),
    fetch: (refs) => {
      const before = mirror.counters.fetch;
      return timed(
        clock,
        () => mirror.fetch(refs),
        (s) => {
          if (mirror.counters.fetch > before) record('fetch', s);
        },
      );
    },
    localRefs: () => mirror.localRefs(),
    isAncestor: (a, d) => mirror.isAncestor(a, d),
    readCommit: (c) => mirror.readCommit(c),
    readSignatureNotes: (c, source) => mirror.readSignatureNotes(c, source),
    exportTree: (c, dir) => mirror.exportTree(c, dir),
    get counters() {
      return mirror.counters;
    },
  };
}

/** A mirror factory whose mirrors are instrumented for `mount`. */
export function instrumentMirrors(
  factory: GitMirrorFactory,
  metrics: Metrics,
  mount: string,
  clock: SecondsClock = monotonicSeconds,
): GitMirrorFactory {
  return {
    open: async (dir, spec) =>
      instrumentMirror(await factory.open(dir, spec), metrics, mount, clock),
  };
}

/** A runner that counts runs by outcome and times them; an engine error counts as `error`. */
export function instrumentRunner(
  runner: ContainerRunner,
  metrics: Metrics,
  mount: string,
  clock: SecondsClock = monotonicSeconds,
): ContainerRunner {
  return {
    ping: () => runner.ping(),
    ensureImage: (image) => runner.ensureImage(image),
    sweep: (labels) => runner.sweep(labels),
    run: (spec) =>
      timed(
        clock,
        () => runner.run(spec),
        (seconds, r) => {
          const outcome = r.ok ? r.value.outcome : 'error';
          metrics.runs.inc({ mount, outcome });
          metrics.runSeconds.observe({ outcome }, seconds);
        },
      ),
  };
}

function instrumentSecretsClient(
  client: SecretsClient,
  metrics: Metrics,
  mount: string,
): SecretsClient {
  return {
    async wrappedRequest(req) {
      try {
        const token = await client.wrappedRequest(req);
        metrics.vaultRequests.inc({ mount, outcome: 'succeeded' });
        return token;
      } catch (e) {
        metrics.vaultRequests.inc({ mount, outcome: 'failed' });
        throw e;
      }
    },
  };
}

/** Vault access whose clients count wrapped requests by outcome (login itself is not counted). */
export function instrumentVaultAccess(
  access: VaultAccessService,
  metrics: Metrics,
  mount: string,
): VaultAccessService {
  return {
    configure: (cfg, save) => access.configure(cfg, save),
    client: async (load, save) =>
      instrumentSecretsClient(await access.client(load, save), metrics, mount),
  };
}

/**
 * The signature policy, counted: `passed`, `insufficient` (answered not ok, or threw
 * SIGNATURES_INSUFFICIENT), or `error` (anything else thrown, e.g. an unreadable key).
 */
export function instrumentSignaturePolicy(
  policy: SignaturePolicy,
  metrics: Metrics,
  mount: string,
): SignaturePolicy {
  return async (input) => {
    try {
      const result = await policy(input);
      metrics.signatureChecks.inc({ mount, outcome: result.ok ? 'passed' : 'insufficient' });
      return result;
    } catch (e) {
      const outcome = isAppError(e, 'SIGNATURES_INSUFFICIENT') ? 'insufficient' : 'error';
      metrics.signatureChecks.inc({ mount, outcome });
      throw e;
    }
  };
}

const FAILURE_OUTCOMES: Readonly<Record<number, string>> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'rejected',
  404: 'unknown_endpoint',
  405: 'method_not_allowed',
  413: 'too_large',
  503: 'unavailable',
};

/** The outcome label of a receiver reply: its status word, or a word for the HTTP status. */
export function deliveryOutcome(reply: WebhookReply): string {
  if ('status' in reply.body && reply.status < 300) return reply.body.status;
  return FAILURE_OUTCOMES[reply.status] ?? 'error';
}

/**
 * A receiver that counts deliveries by source and outcome. The source is that of the endpoints
 * the digest names (one count per distinct source); `unknown` when the delivery never reached an
 * endpoint (wrong method, too large, unknown digest, endpoints unavailable).
 */
export function instrumentReceiver(
  receiver: WebhookReceiver,
  endpoints: EndpointLookup,
  metrics: Metrics,
): WebhookReceiver {
  const sourcesOf = async (digest: string): Promise<string[]> => {
    try {
      const found = await endpoints.lookup(digest.toLowerCase());
      return [...new Set(found.map((e) => e.source))];
    } catch {
      return [];
    }
  };
  return {
    maxBodyBytes: receiver.maxBodyBytes,
    async handle(delivery) {
      const reply = await receiver.handle(delivery);
      const outcome = deliveryOutcome(reply);
      const reached = ![404, 405, 413, 503].includes(reply.status);
      const sources = reached ? await sourcesOf(delivery.digest) : [];
      for (const source of sources.length > 0 ? sources : ['unknown']) {
        metrics.webhookDeliveries.inc({ source, outcome });
      }
      return reply;
    },
  };
}

const POLL_OUTCOMES: Readonly<Record<PollResult, string>> = {
  deployed: 'succeeded',
  'up-to-date': 'up_to_date',
  failed: 'failed',
  canceled: 'canceled',
  skipped: 'skipped',
};

/**
 * A runtime whose polls are counted by the outcome `poll()` returns (the summariser's): `skipped`
 * when the poll recorded nothing (not configured, or a task was already queued or running),
 * `failed` also when the poll itself threw.
 */
export function instrumentRuntime(runtime: MountRuntime, metrics: Metrics): MountRuntime {
  const mount = runtime.mount;
  return {
    ...runtime,
    async poll(reason) {
      let outcome: PollResult;
      try {
        outcome = await runtime.poll(reason);
      } catch (e) {
        metrics.polls.inc({ mount, outcome: 'failed' });
        throw e;
      }
      metrics.polls.inc({ mount, outcome: POLL_OUTCOMES[outcome] });
      return outcome;
    },
  };
}

/**
 * Run `fn` whenever `metric` is scraped. prom-client calls a metric's `collect` (normally given
 * to the constructor) at the start of every scrape; the series are created in metrics.ts before
 * the scheduler and forwarder exist, so the callback is attached here, afterwards.
 */
function onScrape(metric: object, fn: () => void): void {
  Object.assign(metric, { collect: fn });
}

/** Sources of the scrape-time series. */
export interface ScrapeSources {
  /** Mount names, read at every scrape. */
  readonly mounts: () => Iterable<string>;
  readonly scheduler: { isBusy(mount: string): boolean };
  readonly forwards: ForwardStats;
  /** The bound on git processes (gauges of its use), when the service has one. */
  readonly gitSlots?: {
    readonly active: number;
    readonly maxActive: number;
    readonly waiting: number;
  };
}

/**
 * Series read at scrape time: queue depth per mount (1 while a poll runs or waits, else 0) and
 * forwards by backend label and outcome (the forwarder's cumulative counts, added as deltas).
 */
export function collectAtScrape(metrics: Metrics, sources: ScrapeSources): void {
  const slots = sources.gitSlots;
  if (slots) {
    onScrape(metrics.gitProcesses, () => metrics.gitProcesses.set(slots.active));
    onScrape(metrics.gitProcessesMax, () => metrics.gitProcessesMax.set(slots.maxActive));
    onScrape(metrics.gitWaiting, () => metrics.gitWaiting.set(slots.waiting));
  }
  onScrape(metrics.queueDepth, () => {
    for (const mount of sources.mounts()) {
      metrics.queueDepth.set({ mount }, sources.scheduler.isBusy(mount) ? 1 : 0);
    }
  });
  const seen = new Map<string, { successes: number; failures: number }>();
  onScrape(metrics.forwards, () => {
    for (const [key, c] of Object.entries(sources.forwards.stats())) {
      const backend = key;
      const last = seen.get(backend) ?? { successes: 0, failures: 0 };
      if (c.successes > last.successes) {
        metrics.forwards.inc({ backend, outcome: 'succeeded' }, c.successes - last.successes);
      }
      if (c.failures > last.failures) {
        metrics.forwards.inc({ backend, outcome: 'failed' }, c.failures - last.failures);
      }
      seen.set(backend, { successes: c.successes, failures: c.failures });
    }
  });
}

/** What readiness checks. */
export interface ReadinessDeps {
  readonly runner: Pick<ContainerRunner, 'ping'>;
  readonly store: Pick<Store, 'list'>;
  /** Throws when the service cannot write its data dir (runs and mirrors live there). */
  readonly writable?: () => Promise<void>;
  /** How long an answer is reused (default 5 s), so probes never hammer the engine. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * Readiness for /readyz: true when the Docker engine answers a ping, the store can be read and
 * the data dir written (the image's HEALTHCHECK probes this, so "healthy" means able to run).
 * The answer is cached for `cacheMs`; concurrent probes share one check.
 */
export function createReadiness(deps: ReadinessDeps): () => Promise<boolean> {
  const cacheMs = deps.cacheMs ?? 5_000;
  const now = deps.now ?? Date.now;
  let cached: { at: number; ready: boolean } | undefined;
  let inFlight: Promise<boolean> | undefined;
  const check = async (): Promise<boolean> => {
    try {
      await deps.runner.ping();
      await deps.store.list('mounts/');
      await deps.writable?.();
      return true;
    } catch {
      return false;
    }
  };
  return () => {
    if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.ready);
    inFlight ??= check().then((ready) => {
      cached = { at: now(), ready };
      inFlight = undefined;
      return ready;
    });
    return inFlight;
  };
}
