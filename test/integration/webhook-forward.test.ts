import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastify, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureWebhookPath } from '../../src/api/configure-webhook.js';
import type { PathContext } from '../../src/api/types.js';
import { createSettingsEvents } from '../../src/config/settings-events.js';
import { mountScope } from '../../src/config/stored.js';
import { registerWebhookRoute } from '../../src/http/webhook-route.js';
import { createLogger, type Logger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore } from '../../src/storage/store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { createForwarder, type Forwarder } from '../../src/webhook/forward.js';
import { createWebhookReceiver } from '../../src/webhook/receiver.js';
import { FIXTURES, hermeticEnv } from '../helpers/bench.js';
import { freePort } from '../helpers/net.js';
import { settingsIn, validConfiguration } from '../helpers/settings.js';

const MOUNT = 'flant_gitops';
const SECRET = 'integration-webhook-secret-5d1f0c7e2b9a';

interface Received {
  body: Buffer;
  headers: IncomingMessage['headers'];
}

/** A loopback backend; `respond` decides the status (and may wait for a gate). */
async function backend(
  respond: (n: number) => Promise<number>,
): Promise<{ url: string; received: Received[]; server: Server }> {
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
  return { url: `http://127.0.0.1:${port}/hook/downstream?token=not-in-logs`, received, server };
}

describe('webhook fan-out over real loopback HTTP', () => {
  const logLines: string[] = [];
  let logger: Logger;
  let app: FastifyInstance;
  let appUrl: string;
  let forwarder: Forwarder;
  let hookPath: string;
  let tmp: string;
  const servers: Server[] = [];
  const events: string[] = [];
  let releaseGate: () => void = () => {};
  const gate = new Promise<void>((r) => (releaseGate = r));
  let healthy: Awaited<ReturnType<typeof backend>>;
  let gated: Awaited<ReturnType<typeof backend>>;
  let flaky: Awaited<ReturnType<typeof backend>>;
  let refusing: Awaited<ReturnType<typeof backend>>;
  let downUrl: string;
  let apiCtx: PathContext;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'fg-webhook-'));
    logger = createLogger({
      level: 'debug',
      destination: { write: (s: string) => void logLines.push(s) },
    });
    healthy = await backend(async () => 204);
    gated = await backend(async () => {
      events.push('gated backend received');
      await gate;
      events.push('gated backend answered');
      return 200;
    });
    flaky = await backend(async (n) => (n === 1 ? 503 : 200));
    refusing = await backend(async () => 404);
    servers.push(healthy.server, gated.server, flaky.server, refusing.server);
    downUrl = `http://127.0.0.1:${await freePort()}/hook/down`; // nothing listens there

    const store = createMemoryStore();
    const settingsEvents = createSettingsEvents();
    const directory = createEndpointDirectory({ store, logger, settingsEvents });
    await settingsIn(store, MOUNT, settingsEvents).configuration.put(
      validConfiguration({ git_branch_name: 'main' }),
    );
    // The secret arrives as `bao write … secret=@secret.key` would send it: the file's contents.
    const keyFile = join(tmp, 'secret.key');
    writeFileSync(keyFile, SECRET);
    const ctx: PathContext = (apiCtx = {
      store: scopedStore(store, mountScope(MOUNT)),
      services: { settingsEvents } as unknown as PathContext['services'],
      logger,
      now: () => new Date(),
    });
    await configureWebhookPath.operations.update?.(
      {
        operation: 'update',
        mount: MOUNT,
        path: 'configure/webhook/github',
        captures: { name: 'github' },
        data: {
          source: 'github',
          secret: readFileSync(keyFile, 'utf8'),
          backends: [healthy.url, gated.url, downUrl].join(','),
        },
      },
      ctx,
    );
    await configureWebhookPath.operations.update?.(
      {
        operation: 'update',
        mount: MOUNT,
        path: 'configure/webhook/retries',
        captures: { name: 'retries' },
        data: {
          source: 'generic',
          secret: 'generic-secret-for-retries',
          backends: [flaky.url, refusing.url],
        },
      },
      ctx,
    );
    const sum = execFileSync('sha256sum', ['-b', keyFile], { env: hermeticEnv() })
      .toString()
      .split(' ')[0];
    hookPath = `/hook/${sum}`;

    forwarder = createForwarder(logger, { attempts: 3, backoffMs: 10, timeoutMs: 2_000 });
    const receiver = createWebhookReceiver({
      endpoints: directory,
      poller: { requestPoll: () => events.push('poll requested') },
      deduper: createDeliveryDeduper(),
      forwarder,
      logger,
    });
    app = fastify();
    registerWebhookRoute(app, { receiver, logger });
    const port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
    appUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    releaseGate();
    await forwarder?.idle();
    await app?.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reads back the hook path that sha256sum prints for the key file', async () => {
    const r = await configureWebhookPath.operations.read?.(
      {
        operation: 'read',
        mount: MOUNT,
        path: 'configure/webhook/github',
        captures: { name: 'github' },
        data: {},
      },
      apiCtx,
    );
    expect(hookPath).toMatch(/^\/hook\/[0-9a-f]{64}$/);
    expect(r?.data.hook_path).toBe(hookPath);
  });

  it('answers 202 before forwarding finishes; healthy backends get byte-identical bodies and signature headers; the down one is retried and counted as failed', async () => {
    const body = readFileSync(join(FIXTURES, 'webhooks', 'github-push.json'));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/abc123',
      'x-github-event': 'push',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-hook-id': '292430182',
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    };
    const res = await fetch(appUrl + hookPath, { method: 'POST', headers, body });
    events.push('sender got 202');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    // The gated backend has not answered yet, so forwarding is still in flight.
    expect(forwarder.pending()).toBeGreaterThan(0);
    expect(events).not.toContain('gated backend answered');

    releaseGate();
    await forwarder.idle();
    expect(events.indexOf('sender got 202')).toBeLessThan(events.indexOf('gated backend answered'));
    expect(events.filter((e) => e === 'poll requested')).toHaveLength(1);

    for (const b of [healthy, gated]) {
      expect(b.received).toHaveLength(1);
      const got = b.received[0];
      expect(got?.body.equals(body)).toBe(true);
      for (const [k, v] of Object.entries(headers)) expect(got?.headers[k]).toBe(v);
    }
    const stats = forwarder.stats();
    const key = (u: string) => u.split('?')[0] ?? u;
    expect(stats[key(healthy.url)]).toEqual({ attempts: 1, successes: 1, failures: 0 });
    expect(stats[key(gated.url)]).toEqual({ attempts: 1, successes: 1, failures: 0 });
    expect(stats[key(downUrl)]).toEqual({ attempts: 3, successes: 0, failures: 1 });
  });

  it('retries a 5xx until it succeeds and does not retry a 4xx', async () => {
    const body = Buffer.from('{"from":"ci"}');
    const signature = `sha256=${createHmac('sha256', 'generic-secret-for-retries').update(body).digest('hex')}`;
    const sum = execFileSync('sha256sum', {
      input: 'generic-secret-for-retries',
      env: hermeticEnv(),
    })
      .toString()
      .split(' ')[0];
    const res = await fetch(`${appUrl}/hook/${sum}`, {
      method: 'POST',
      headers: { 'x-signature': signature },
      body,
    });
    expect(res.status).toBe(202);
    await forwarder.idle();
    const stats = forwarder.stats();
    expect(stats[flaky.url.split('?')[0] ?? '']).toEqual({
      attempts: 2,
      successes: 1,
      failures: 0,
    });
    expect(stats[refusing.url.split('?')[0] ?? '']).toEqual({
      attempts: 1,
      successes: 0,
      failures: 1,
    });
    expect(
      flaky.received.every((r) => r.body.equals(body) && r.headers['x-signature'] === signature),
    ).toBe(true);
  });

  it('rejected deliveries are not forwarded', async () => {
    const before = healthy.received.length;
    const res = await fetch(appUrl + hookPath, {
      method: 'POST',
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      body: '{}',
    });
    expect(res.status).toBe(403);
    await forwarder.idle();
    expect(healthy.received.length).toBe(before);
  });

  it('log scan: no secret, digest, signature header value or backend query in the captured logs', () => {
    const text = logLines.join('');
    expect(text).toContain('webhook rejected'); // the scan looked at real output
    expect(text).toContain('webhook forwarding failed');
    const digest = hookPath.slice('/hook/'.length);
    for (const needle of [
      SECRET,
      'generic-secret-for-retries',
      digest,
      'not-in-logs',
      '0'.repeat(64),
    ]) {
      expect(text).not.toContain(needle);
    }
    const sig = createHmac('sha256', SECRET)
      .update(readFileSync(join(FIXTURES, 'webhooks', 'github-push.json')))
      .digest('hex');
    expect(text).not.toContain(sig);
  });
});
