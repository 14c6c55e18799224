/**
 * Each metrics decorator counts what passes through the interface it wraps, with fakes of our own
 * interfaces only; values are read back from the instance's own registry.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { GitMirror, RemoteRefs } from '../../src/git/types.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import {
  collectAtScrape,
  createReadiness,
  deliveryOutcome,
  instrumentMirrors,
  instrumentReceiver,
  instrumentRunner,
  instrumentRuntime,
  instrumentSignaturePolicy,
  instrumentVaultAccess,
} from '../../src/metrics-wiring.js';
import type { SignatureCheckInput } from '../../src/pipeline/run-context.js';
import type { ContainerRunner, RunResult, RunSpec } from '../../src/runner/types.js';
import type { VaultRequestConfig } from '../../src/vault/types.js';
import type { WebhookReceiver, WebhookReply } from '../../src/webhook/receiver.js';
import type { BackendCounters, ResolvedEndpoint } from '../../src/webhook/types.js';
import { bench, C2, C3, MOUNT, world } from './pipeline-fakes.js';

type Labels = Record<string, string>;

/** The value of one series (`_count` for a histogram) in the exposition text; 0 when absent. */
async function sample(metrics: Metrics, name: string, labels: Labels): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || (m[1] !== name && m[1] !== `${name}_count`)) continue;
    const got = (m[2] ?? '').split(',').sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return 0;
}

/** A mirror whose fetch is a no-op when the refs are already local (as the real one). */
function mirrorFactory(remote: { refs: RemoteRefs }) {
  let local: RemoteRefs = {};
  const counters = { lsRemote: 0, fetch: 0 };
  const mirror: GitMirror = {
    counters,
    lsRemote: async () => {
      counters.lsRemote++;
      return { ...remote.refs };
    },
    fetch: async (refs) => {
      if (refs.branch === local.branch) return;
      counters.fetch++;
      local = { ...refs };
    },
    localRefs: async () => ({ ...local }),
    isAncestor: async () => true,
    readCommit: async () => new Uint8Array(),
    readSignatureNotes: async () => undefined,
    exportTree: async () => undefined,
  };
  return { open: async () => mirror };
}

const spec = (): RunSpec => ({
  image: 'sha256:x',
  commands: ['true'],
  worktree: '/tmp/none',
  env: {},
  labels: {},
  networkMode: 'none',
  timeoutMs: 1000,
  onOutput: () => undefined,
});

describe('git mirror decorator', () => {
  it('counts every ls-remote and only fetches that really ran, with durations', async () => {
    const metrics = createMetrics();
    const remote = { refs: { branch: C2 } as RemoteRefs };
    let t = 0;
    const clock = () => (t += 0.5);
    const factory = instrumentMirrors(mirrorFactory(remote), metrics, MOUNT, clock);
    const mirror = await factory.open('/tmp/x', {
      url: 'file:///r',
      branch: 'main',
      auth: { kind: 'none' },
    });
    await mirror.fetch(await mirror.lsRemote());
    await mirror.fetch(await mirror.lsRemote()); // unchanged: the fetch is a no-op
    remote.refs = { branch: C3 };
    await mirror.fetch(await mirror.lsRemote());
    const at = (call: string) => ({ mount: MOUNT, call });
    expect(await sample(metrics, 'flant_gitops_git_calls_total', at('ls_remote'))).toBe(3);
    expect(await sample(metrics, 'flant_gitops_git_calls_total', at('fetch'))).toBe(2);
    expect(await sample(metrics, 'flant_gitops_git_call_duration_seconds', { call: 'fetch' })).toBe(
      2,
    );
    expect(mirror.counters).toEqual({ lsRemote: 3, fetch: 2 });
  });
});

describe('runner decorator', () => {
  it.each<[string, () => Promise<RunResult>, string]>([
    ['a succeeded run', async () => ({ outcome: 'succeeded' }), 'succeeded'],
    ['a failed run', async () => ({ outcome: 'failed', commandIndex: 0, exitCode: 7 }), 'failed'],
    ['a timed-out run', async () => ({ outcome: 'timeout', commandIndex: 1 }), 'timeout'],
    ['a canceled run', async () => ({ outcome: 'canceled', commandIndex: 0 }), 'canceled'],
    [
      'an engine error',
      async () => {
        throw new AppError('RUNNER_FAILED', 'engine down');
      },
      'error',
    ],
  ])('counts %s as %s and times it', async (_name, run, outcome) => {
    const metrics = createMetrics();
    const inner: ContainerRunner = {
      ping: async () => undefined,
      ensureImage: async () => undefined,
      sweep: async () => 0,
      run,
    };
    const runner = instrumentRunner(inner, metrics, MOUNT);
    await runner.run(spec()).catch(() => undefined);
    const labels = { mount: MOUNT, outcome };
    expect(await sample(metrics, 'flant_gitops_runs_total', labels)).toBe(1);
    expect(await sample(metrics, 'flant_gitops_run_duration_seconds', { outcome })).toBe(1);
  });
});

describe('vault access decorator', () => {
  it('counts wrapped requests of its clients by outcome', async () => {
    const metrics = createMetrics();
    const req = (name: string): VaultRequestConfig => ({
      name,
      path: '/v1/x',
      method: 'GET',
      options: {},
      wrap_ttl: 60,
    });
    const access = instrumentVaultAccess(
      {
        configure: async () => undefined,
        client: async () => ({
          wrappedRequest: async (r) => {
            if (r.name === 'bad') throw new AppError('VAULT_REQUEST_FAILED', 'denied');
            return { name: r.name, envName: 'E', token: 't', ttl: 60, accessor: 'a' };
          },
        }),
      },
      metrics,
      MOUNT,
    );
    const client = await access.client(
      async () => undefined,
      async () => undefined,
    );
    await client.wrappedRequest(req('good'));
    await client.wrappedRequest(req('good'));
    await expect(client.wrappedRequest(req('bad'))).rejects.toThrow('denied');
    const at = (outcome: string) => ({ mount: MOUNT, outcome });
    expect(await sample(metrics, 'flant_gitops_vault_requests_total', at('succeeded'))).toBe(2);
    expect(await sample(metrics, 'flant_gitops_vault_requests_total', at('failed'))).toBe(1);
  });
});

describe('signature policy decorator', () => {
  const input = {} as SignatureCheckInput;
  it.each<[string, () => Promise<{ ok: boolean }>, string]>([
    ['a passing check', async () => ({ ok: true }), 'passed'],
    ['a check answering not ok', async () => ({ ok: false }), 'insufficient'],
    [
      'SIGNATURES_INSUFFICIENT thrown',
      async () => {
        throw new AppError('SIGNATURES_INSUFFICIENT', 'not enough');
      },
      'insufficient',
    ],
    [
      'any other error',
      async () => {
        throw new AppError('PGP_INVALID', 'bad key');
      },
      'error',
    ],
  ])('counts %s as %s', async (_name, answer, outcome) => {
    const metrics = createMetrics();
    const policy = instrumentSignaturePolicy(
      async () => ({ ...(await answer()), validCount: 0, signers: [], rejected: [] }),
      metrics,
      MOUNT,
    );
    await policy(input).catch(() => undefined);
    expect(
      await sample(metrics, 'flant_gitops_signature_checks_total', { mount: MOUNT, outcome }),
    ).toBe(1);
  });
});

describe('webhook receiver decorator', () => {
  const endpoint = (source: ResolvedEndpoint['source']): ResolvedEndpoint => ({
    name: 'ci',
    mount: MOUNT,
    source,
    secret: Buffer.from('s'),
    branch: 'main',
    dockerRepository: undefined,
    backends: [],
  });
  const digest = 'a'.repeat(64);
  it.each<[string, WebhookReply, ResolvedEndpoint['source'][], string, string]>([
    [
      'accepted push',
      { status: 202, body: { status: 'accepted' } },
      ['generic'],
      'generic',
      'accepted',
    ],
    [
      'ignored event',
      { status: 202, body: { status: 'ignored' } },
      ['github'],
      'github',
      'ignored',
    ],
    ['ping', { status: 200, body: { status: 'pong' } }, ['gitea'], 'gitea', 'pong'],
    ['bad signature', { status: 403, body: { errors: ['x'] } }, ['gitlab'], 'gitlab', 'rejected'],
    [
      'missing signature',
      { status: 401, body: { errors: ['x'] } },
      ['github'],
      'github',
      'unauthenticated',
    ],
    ['unknown digest', { status: 404, body: { errors: [] } }, [], 'unknown', 'unknown_endpoint'],
    [
      'oversized body',
      { status: 413, body: { errors: ['x'] } },
      ['github'],
      'unknown',
      'too_large',
    ],
  ])('counts a %s by source and outcome', async (_n, reply, sources, source, outcome) => {
    const metrics = createMetrics();
    const inner: WebhookReceiver = { maxBodyBytes: 10, handle: async () => reply };
    const receiver = instrumentReceiver(
      inner,
      { lookup: async () => sources.map(endpoint) },
      metrics,
    );
    const got = await receiver.handle({
      method: 'POST',
      digest,
      headers: {},
      body: Buffer.from('{}'),
    });
    expect(got).toBe(reply);
    expect(deliveryOutcome(reply)).toBe(outcome);
    expect(
      await sample(metrics, 'flant_gitops_webhook_deliveries_total', { source, outcome }),
    ).toBe(1);
  });
});

describe('scrape-time series', () => {
  it('reports queue depth per mount and forwards by backend label, as deltas', async () => {
    const metrics = createMetrics();
    const busy = new Set<string>([MOUNT]);
    let stats: Record<string, BackendCounters> = {
      'flant_gitops/ci#1': { attempts: 3, successes: 1, failures: 1 },
    };
    collectAtScrape(metrics, {
      mounts: () => [MOUNT, 'other'],
      scheduler: { isBusy: (m) => busy.has(m) },
      forwards: { stats: () => stats },
    });
    expect(await sample(metrics, 'flant_gitops_queue_depth', { mount: MOUNT })).toBe(1);
    expect(await sample(metrics, 'flant_gitops_queue_depth', { mount: 'other' })).toBe(0);
    busy.clear();
    expect(await sample(metrics, 'flant_gitops_queue_depth', { mount: MOUNT })).toBe(0);
    const backend = 'flant_gitops/ci#1';
    const fwd = (outcome: string) => ({ backend, outcome });
    expect(await sample(metrics, 'flant_gitops_webhook_forwards_total', fwd('succeeded'))).toBe(1);
    stats = { [backend]: { attempts: 5, successes: 3, failures: 1 } };
    expect(await sample(metrics, 'flant_gitops_webhook_forwards_total', fwd('succeeded'))).toBe(3);
    expect(await sample(metrics, 'flant_gitops_webhook_forwards_total', fwd('failed'))).toBe(1);
  });
});

describe('mount runtime decorator', () => {
  it('counts polls by the outcome the summariser wrote, and polls that wrote none as skipped', async () => {
    const metrics = createMetrics();
    const w = world();
    const b = await bench(w);
    try {
      const runtime = instrumentRuntime(b.runtime, metrics);
      await runtime.poll('test'); // C2 is new: deployed
      await runtime.poll('test'); // unchanged: up to date
      w.run = async () => ({ outcome: 'failed', commandIndex: 0, exitCode: 1 });
      w.remote = { branch: C3 };
      await runtime.poll('test'); // the command fails: failed
      const unconfigured = await bench(world(), { configure: false });
      await instrumentRuntime(unconfigured.runtime, metrics).poll('test');
      await unconfigured.cleanup();
      const at = (outcome: string) => ({ mount: MOUNT, outcome });
      expect(await sample(metrics, 'flant_gitops_polls_total', at('succeeded'))).toBe(1);
      expect(await sample(metrics, 'flant_gitops_polls_total', at('up_to_date'))).toBe(1);
      expect(await sample(metrics, 'flant_gitops_polls_total', at('failed'))).toBe(1);
      expect(await sample(metrics, 'flant_gitops_polls_total', at('skipped'))).toBe(1);
      expect(runtime.mount).toBe(MOUNT);
      expect(runtime.tasks).toBe(b.runtime.tasks);
    } finally {
      await b.cleanup();
    }
  });
});

describe('readiness', () => {
  it('is ready only when the engine answers and the store reads, and caches the answer', async () => {
    let t = 0;
    let engineUp = true;
    let pings = 0;
    const ready = createReadiness({
      runner: {
        ping: async () => {
          pings++;
          if (!engineUp) throw new AppError('RUNNER_FAILED', 'down');
        },
      },
      store: { list: async () => [] },
      cacheMs: 5000,
      now: () => t,
    });
    expect(await ready()).toBe(true);
    engineUp = false;
    t = 4999;
    expect(await ready()).toBe(true); // cached
    expect(pings).toBe(1);
    t = 5000;
    expect(await ready()).toBe(false);
    expect(pings).toBe(2);
  });

  it('is not ready when the store cannot be read', async () => {
    const ready = createReadiness({
      runner: { ping: async () => undefined },
      store: {
        list: async () => {
          throw new AppError('STORAGE_FAILED', 'disk gone');
        },
      },
    });
    expect(await ready()).toBe(false);
  });

  it('is not ready when the data dir cannot be written (the health check reports it)', async () => {
    let writable = true;
    const ready = createReadiness({
      runner: { ping: async () => undefined },
      store: { list: async () => [] },
      writable: async () => {
        if (!writable) throw new AppError('STORAGE_FAILED', 'the data dir is not writable');
      },
      cacheMs: 0,
    });
    expect(await ready()).toBe(true);
    writable = false;
    expect(await ready()).toBe(false);
  });
});
