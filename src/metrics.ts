/**
 * Prometheus metrics (prom-client). One registry per service instance — created in src/service.ts and
 * injected — so tests and several in-process instances never share counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's metrics; every series carries the mount where it applies. */
export interface Metrics {
  readonly registry: Registry;
  readonly polls: Counter<'mount' | 'outcome'>;
  readonly gitCalls: Counter<'mount' | 'call'>;
  readonly gitCallSeconds: Histogram<'mount' | 'call'>;
  readonly signatureChecks: Counter<'mount' | 'outcome'>;
  readonly vaultRequests: Counter<'mount' | 'outcome'>;
  readonly runs: Counter<'mount' | 'outcome'>;
  readonly runSeconds: Histogram<'mount' | 'outcome'>;
  readonly webhookDeliveries: Counter<'source' | 'outcome'>;
  readonly forwards: Counter<'backend' | 'outcome'>;
  readonly queueDepth: Gauge<'mount'>;
  readonly pollLateness: Histogram<'previous_poll'>;
  readonly gitProcesses: Gauge;
  readonly gitProcessesMax: Gauge;
  readonly gitWaiting: Gauge;
}

/** Create a fresh registry with all series (and Node's default process metrics when asked). */
export function createMetrics(opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'flant_gitops_' });
  const registers = [registry];
  return {
    registry,
    polls: new Counter({
      name: 'flant_gitops_polls_total',
      help: 'Polls by mount and outcome (up_to_date, succeeded, failed, canceled, skipped).',
      labelNames: ['mount', 'outcome'],
      registers,
    }),
    gitCalls: new Counter({
      name: 'flant_gitops_git_calls_total',
      help: 'git network calls by mount and kind (ls_remote, fetch).',
      labelNames: ['mount', 'call'],
      registers,
    }),
    gitCallSeconds: new Histogram({
      name: 'flant_gitops_git_call_duration_seconds',
      help: 'Duration of git network calls (all mounts; per mount: flant_gitops_git_calls_total).',
      // Not per mount: a thousand mounts × 2 calls × 14 series made /metrics megabytes long.
      labelNames: ['call'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    signatureChecks: new Counter({
      name: 'flant_gitops_signature_checks_total',
      help: 'Signature policy checks by mount and outcome (passed, insufficient).',
      labelNames: ['mount', 'outcome'],
      registers,
    }),
    vaultRequests: new Counter({
      name: 'flant_gitops_vault_requests_total',
      help: 'Wrapped Vault requests by mount and outcome (succeeded, failed).',
      labelNames: ['mount', 'outcome'],
      registers,
    }),
    runs: new Counter({
      name: 'flant_gitops_runs_total',
      help: 'Container runs by mount and outcome (succeeded, failed, timeout, canceled).',
      labelNames: ['mount', 'outcome'],
      registers,
    }),
    runSeconds: new Histogram({
      name: 'flant_gitops_run_duration_seconds',
      help: 'Duration of container runs, all commands of a task (all mounts; per mount: flant_gitops_runs_total).',
      labelNames: ['outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'flant_gitops_webhook_deliveries_total',
      help: 'Webhook deliveries by source and outcome (accepted, duplicate, ignored, rejected, …).',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    forwards: new Counter({
      name: 'flant_gitops_webhook_forwards_total',
      help: 'Forwarded deliveries by backend (<mount>/<endpoint>#<n>, never its URL) and outcome (succeeded, failed).',
      labelNames: ['backend', 'outcome'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'flant_gitops_queue_depth',
      help: 'Polls waiting or running per mount (0, 1 or 2: one running, one follow-up).',
      labelNames: ['mount'],
      registers,
    }),
    // Service-wide, not per mount: a thousand mounts × buckets would cost more than it tells.
    pollLateness: new Histogram({
      name: 'flant_gitops_poll_lateness_seconds',
      help:
        'How late periodic polls start after their due time (all mounts); previous_poll=overran ' +
        'when the previous poll of the mount was still running at the due time.',
      labelNames: ['previous_poll'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    gitProcesses: new Gauge({
      name: 'flant_gitops_git_processes',
      help: 'git processes alive now (all mounts; bounded by --git-concurrency).',
      registers,
    }),
    gitProcessesMax: new Gauge({
      name: 'flant_gitops_git_processes_max',
      help: 'Most git processes alive at once since start.',
      registers,
    }),
    gitWaiting: new Gauge({
      name: 'flant_gitops_git_calls_waiting',
      help: 'git calls waiting for a free slot now.',
      registers,
    }),
  };
}
