/**
 * /metrics and /readyz of the service as src/service.ts composes it, after one real run: a commit
 * signed by real gpg, a real git remote, the test image in real Docker, and a signed webhook
 * delivery to a `generic` endpoint. Every series the run touched shows a non-zero sample.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { bao, type BaoResult } from '../helpers/openbao.js';
import { startTestService, type TestService } from '../helpers/service.js';

// A mount of its own: a service sweeps its mount's leftover containers at start, so a shared
// mount name would let parallel test files remove each other's running containers.
const MOUNT = `metrics_${randomBytes(4).toString('hex')}`;
const image = inject('testImage');

let svc: TestService;
let home: GpgHome;
let key: GpgKey;
let repo: RepoPair;

function ok(r: BaoResult): string {
  if (r.code !== 0) throw new Error(`bao failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
const cli = (args: string[]) => bao({ addr: svc.addr, token: svc.token }, args);

async function pollState(): Promise<Record<string, unknown>> {
  const res = await fetch(`${svc.addr}/v1/${MOUNT}/status`, {
    headers: { 'x-vault-token': svc.token },
  });
  return ((await res.json()) as { data?: Record<string, unknown> }).data ?? {};
}

/** The value of one sample line of the exposition text, undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

let tip = '';

beforeAll(async () => {
  home = await createGpgHome();
  key = await generateKey(home, { name: 'Metrics One', email: 'metrics@example.test' });
  repo = await createRepoPair();
  tip = await commitFile(repo, 'message.txt', 'metrics run\n', { sign: { home, key } });
  await push(repo);
  svc = await startTestService({ mounts: [MOUNT] });
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/trusted_pgp_public_key`,
      'name=one',
      `public_key=${await exportPublicKey(home, key)}`,
    ]),
  );
  ok(
    await cli([
      'write',
      `${MOUNT}/configure`,
      `git_repo_url=file://${repo.origin}`,
      'git_branch_name=main',
      'git_poll_period=1h',
      'required_number_of_verified_signatures_on_commit=1',
      `docker_image=${image}`,
      'commands=["cat /git/message.txt"]',
    ]),
  );
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await home?.cleanup();
  const left = execFileSync(
    'docker',
    ['ps', '-aq', '--filter', `label=flant-gitops.mount=${MOUNT}`],
    { encoding: 'utf8' },
  ).trim();
  expect(left).toBe('');
});

describe('metrics after one run and one webhook delivery', () => {
  it('a poll deploys the signed commit', async () => {
    // The scheduler's first tick may already poll the freshly configured mount; the requested
    // poll then finds it up to date. Either way the tip ends up deployed exactly once.
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    let st: Record<string, unknown> = {};
    await waitFor(
      'the tip to be deployed',
      async () => {
        st = await pollState();
        return st.last_successful_commit === tip && st.running_task === null;
      },
      90_000,
    );
    expect(st.last_successful_commit, String(st.last_poll_reason)).toBe(tip);
  });

  it('a signed delivery to a generic endpoint is accepted', async () => {
    const secret = randomBytes(24).toString('hex');
    ok(await cli(['write', `${MOUNT}/configure/webhook/ci`, 'source=generic', `secret=${secret}`]));
    const hookPath = ok(await cli(['read', '-field=hook_path', `${MOUNT}/configure/webhook/ci`]));
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const res = await fetch(`${svc.addr}${hookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBe(202);
    await svc.service.scheduler.whenIdle();
    await waitFor(
      'the webhook-triggered poll to be counted',
      async () => {
        const text = await (await fetch(`${svc.addr}/metrics`)).text();
        return (
          (value(text, `flant_gitops_polls_total{mount="${MOUNT}",outcome="up_to_date"}`) ?? 0) > 0
        );
      },
      60_000,
    );
  });

  it('/metrics exposes every series, non-zero where the run produced one', async () => {
    const res = await fetch(`${svc.addr}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const m = `mount="${MOUNT}"`;
    const nonZero = [
      `flant_gitops_polls_total{${m},outcome="succeeded"}`,
      `flant_gitops_polls_total{${m},outcome="up_to_date"}`,
      `flant_gitops_git_calls_total{${m},call="ls_remote"}`,
      `flant_gitops_git_calls_total{${m},call="fetch"}`,
      `flant_gitops_git_call_duration_seconds_count{call="ls_remote"}`,
      `flant_gitops_git_call_duration_seconds_count{call="fetch"}`,
      `flant_gitops_signature_checks_total{${m},outcome="passed"}`,
      `flant_gitops_runs_total{${m},outcome="succeeded"}`,
      `flant_gitops_run_duration_seconds_count{outcome="succeeded"}`,
      `flant_gitops_webhook_deliveries_total{source="generic",outcome="accepted"}`,
    ];
    for (const series of nonZero) {
      expect(value(text, series), series).toBeGreaterThan(0);
    }
    // One fetch for one new commit; the webhook's poll found the tip unchanged.
    expect(value(text, `flant_gitops_git_calls_total{${m},call="fetch"}`)).toBe(1);
    expect(value(text, `flant_gitops_queue_depth{${m}}`)).toBe(0);
    for (const name of [
      'flant_gitops_vault_requests_total',
      'flant_gitops_webhook_forwards_total',
    ]) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    expect(text).toContain('flant_gitops_process_cpu_seconds_total');
    expect(text).not.toContain(svc.token);
  });

  it('/readyz is ready: the Docker engine answers and the store reads', async () => {
    const res = await fetch(`${svc.addr}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });
});
