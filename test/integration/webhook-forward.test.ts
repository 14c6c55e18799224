/**
 * Webhook fan-out through the whole service (startService over the file store, the real HTTP
 * listener, /metrics) to loopback backends: the sender's 202 does not wait for forwarding,
 * healthy backends get byte-identical bodies with the signature headers, 5xx and network errors
 * are retried and 4xx not, rejected and replayed deliveries are not forwarded, and no backend
 * URL — whose path may be its only credential — reaches a metrics label or a log line.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/bench.js';
import { waitFor } from '../helpers/net.js';
import { startTestService, type TestService } from '../helpers/service.js';

const MOUNT = 'forwarding';
const SECRET = 'integration-webhook-secret-5d1f0c7e2b9a';
const RETRY_SECRET = 'generic-secret-for-retries';
/** A Docker Hub-style backend path: the path is the credential. */
const BACKEND_TOKEN = 'ab'.repeat(32);

interface Received {
  body: Buffer;
  headers: IncomingMessage['headers'];
}

interface Backend {
  url: string;
  received: Received[];
  server: Server;
}

/** A loopback backend bound to port 0; `respond` decides the status (and may wait for a gate). */
async function backend(respond: (n: number) => Promise<number>): Promise<Backend> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks), headers: req.headers });
      void respond(received.length).then((status) => res.writeHead(status).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook/${BACKEND_TOKEN}?token=not-in-logs`,
    received,
    server,
  };
}

const hookOf = (secret: string) => `/hook/${createHash('sha256').update(secret).digest('hex')}`;

let svc: TestService;
const events: string[] = [];
let releaseGate: () => void = () => {};
const gate = new Promise<void>((r) => (releaseGate = r));
let healthy: Backend;
let gated: Backend;
let flaky: Backend;
let refusing: Backend;
let down: Backend;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${svc.addr}/v1/${MOUNT}/${path}`, {
    method,
    headers: { 'x-vault-token': svc.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, text: await res.text() };
}

const scrape = async (): Promise<string> => (await fetch(`${svc.addr}/metrics`)).text();

/** The forwards counter of `backend` and `outcome` in a scrape (0 when absent). */
function forwards(text: string, backendLabel: string, outcome: string): number {
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('flant_gitops_webhook_forwards_total{') &&
        l.includes(`backend="${backendLabel}"`) &&
        l.includes(`outcome="${outcome}"`),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

let deliveries = 0;

/** A signed GitHub push; each call's body differs (trailing spaces), as a new push's would. */
function githubDelivery(id: string) {
  const body = Buffer.concat([
    readFileSync(`${FIXTURES}/webhooks/github-push.json`),
    Buffer.from(' '.repeat(deliveries++)),
  ]);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/abc123',
    'x-github-event': 'push',
    'x-github-delivery': id,
    'x-github-hook-id': '292430182',
    'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
  };
  return { body, headers };
}

beforeAll(async () => {
  healthy = await backend(async () => 204);
  gated = await backend(async () => {
    events.push('gated backend received');
    await gate;
    events.push('gated backend answered');
    return 200;
  });
  flaky = await backend(async (n) => (n === 1 ? 503 : 200));
  refusing = await backend(async () => 404);
  // Bound, then closed: nothing listens there any more.
  down = await backend(async () => 200);
  await new Promise((r) => down.server.close(r));
  svc = await startTestService({ mounts: [MOUNT] });
  const cfg = await api('PUT', 'configure', {
    // Polls (none are needed here) stay on this machine: a local path that does not exist.
    git_repo_url: join(tmpdir(), 'fg-forwarding-no-such-repo.git'),
    git_branch_name: 'main',
    git_poll_period: '8760h',
    docker_image: `sha256:${'0'.repeat(64)}`,
    commands: 'true',
  });
  expect(cfg.status, cfg.text).toBe(204);
  const hooks = [
    ['github', { source: 'github', secret: SECRET, backends: [healthy.url, gated.url, down.url] }],
    ['retries', { source: 'generic', secret: RETRY_SECRET, backends: [flaky.url, refusing.url] }],
  ] as const;
  for (const [name, body] of hooks) {
    const r = await api('PUT', `configure/webhook/${name}`, body);
    expect(r.status, r.text).toBe(204);
  }
});

afterAll(async () => {
  releaseGate();
  await svc?.stop();
  for (const b of [healthy, gated, flaky, refusing]) {
    await new Promise((r) => b?.server.close(r));
  }
});

describe('webhook fan-out through the service', () => {
  it('answers 202 before forwarding finishes; healthy backends get byte-identical bodies and signature headers; the down one is retried and counted as failed', async () => {
    const { body, headers } = githubDelivery('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    const res = await fetch(svc.addr + hookOf(SECRET), { method: 'POST', headers, body });
    events.push('sender got 202');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    expect(events).not.toContain('gated backend answered');

    releaseGate();
    let text = '';
    await waitFor('every forward to be counted', async () => {
      text = await scrape();
      return (
        forwards(text, `${MOUNT}/github#2`, 'succeeded') === 1 &&
        forwards(text, `${MOUNT}/github#3`, 'failed') === 1
      );
    });
    expect(events.indexOf('sender got 202')).toBeLessThan(events.indexOf('gated backend answered'));
    for (const b of [healthy, gated]) {
      expect(b.received).toHaveLength(1);
      const got = b.received[0];
      expect(got?.body.equals(body)).toBe(true);
      for (const [k, v] of Object.entries(headers)) expect(got?.headers[k]).toBe(v);
    }
    expect(forwards(text, `${MOUNT}/github#1`, 'succeeded')).toBe(1);
  });

  it('retries a 5xx until it succeeds and does not retry a 4xx', async () => {
    const body = Buffer.from('{"from":"ci"}');
    const signature = `sha256=${createHmac('sha256', RETRY_SECRET).update(body).digest('hex')}`;
    const res = await fetch(svc.addr + hookOf(RETRY_SECRET), {
      method: 'POST',
      headers: { 'x-signature': signature },
      body,
    });
    expect(res.status).toBe(202);
    await waitFor('both forwards to be counted', async () => {
      const text = await scrape();
      return (
        forwards(text, `${MOUNT}/retries#1`, 'succeeded') === 1 &&
        forwards(text, `${MOUNT}/retries#2`, 'failed') === 1
      );
    });
    expect(flaky.received).toHaveLength(2);
    expect(refusing.received).toHaveLength(1);
    expect(
      flaky.received.every((r) => r.body.equals(body) && r.headers['x-signature'] === signature),
    ).toBe(true);
  });

  it('rejected deliveries are not forwarded', async () => {
    const before = healthy.received.length;
    const res = await fetch(svc.addr + hookOf(SECRET), {
      method: 'POST',
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: '{}',
    });
    expect(res.status).toBe(403);
    // A later accepted delivery is forwarded; the rejected one before it never was.
    const next = githubDelivery('0f3a9c1e-0000-4000-8000-000000000001');
    await fetch(svc.addr + hookOf(SECRET), { method: 'POST', ...next });
    await waitFor('the next delivery to arrive', async () => healthy.received.length > before);
    expect(healthy.received.length).toBe(before + 1);
    expect(healthy.received.at(-1)?.headers['x-github-delivery']).toBe(
      '0f3a9c1e-0000-4000-8000-000000000001',
    );
  });

  it('a delivery sent five times is forwarded once', async () => {
    const before = healthy.received.length;
    const { body, headers } = githubDelivery('5a5a5a5a-0000-4000-8000-000000000005');
    const statuses: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(svc.addr + hookOf(SECRET), { method: 'POST', headers, body });
      statuses.push(((await res.json()) as { status: string }).status);
    }
    expect(statuses).toEqual(['accepted', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    await waitFor('the forward to arrive', async () => healthy.received.length > before);
    // Give the other four (had they been forwarded) the time a forward takes, then count.
    const marker = githubDelivery('5a5a5a5a-0000-4000-8000-00000000000f');
    await fetch(svc.addr + hookOf(SECRET), { method: 'POST', ...marker });
    await waitFor('the marker to arrive', async () =>
      healthy.received.some(
        (r) => r.headers['x-github-delivery'] === marker.headers['x-github-delivery'],
      ),
    );
    const ids = healthy.received.slice(before).map((r) => r.headers['x-github-delivery']);
    expect(ids).toEqual([headers['x-github-delivery'], marker.headers['x-github-delivery']]);
  });

  it('no backend URL, hook path or token in /metrics or the logs', async () => {
    const text = await scrape();
    expect(text).toContain(`backend="${MOUNT}/github#1"`); // the scan looked at real series
    const logs = svc.logs();
    expect(logs).toContain('webhook forwarding failed');
    for (const needle of [
      BACKEND_TOKEN,
      'not-in-logs',
      '/hook/',
      '127.0.0.1:' + new URL(healthy.url).port,
      SECRET,
      RETRY_SECRET,
      hookOf(SECRET).slice('/hook/'.length),
    ]) {
      expect(text, `metrics: ${needle}`).not.toContain(needle);
      expect(logs, `logs: ${needle}`).not.toContain(needle);
    }
  });
});
