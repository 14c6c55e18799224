/**
 * The webhook fast path (src/http/webhook-fast-path.ts) over real loopback sockets: what it takes,
 * it answers byte for byte as fastify's route alone does (the way every delivery was served before
 * it); what it does not take reaches that route untouched. Two servers over twin receivers (same
 * endpoints, clock and fresh de-dup memory) are sent the same corpus — valid and invalid
 * deliveries of every sender in shared/spec/webhooks.md, and the transport's edge cases — and
 * their raw answers are compared with only the Date header blanked. Then the fast path's own edges:
 * body cap, a client gone mid-body, a slow client, many deliveries on one keep-alive connection.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastify, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createRootTokenAuthorizer } from '../../src/http/auth.js';
import {
  createWebhookFastPath,
  putWebhookFastPathInFront,
} from '../../src/http/webhook-fast-path.js';
import { registerWebhookRoute } from '../../src/http/webhook-route.js';
import { buildWebhookServer } from '../../src/http/webhook-server.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { createWebhookReceiver, type WebhookReceiver } from '../../src/webhook/receiver.js';
import type { WebhookEndpointSpec, WebhookSource } from '../../src/webhook/types.js';
import { secretDigest } from '../../src/webhook/verify.js';
import { fakeKeyInspector, fakeVaultAccess, TEST_ROOT_TOKEN } from '../helpers/api-app.js';
import { FIXTURES } from '../helpers/bench.js';
import { settingsIn, validConfiguration } from '../helpers/settings.js';

const NOW = new Date('2024-05-01T10:00:00Z');
const CAP = 4096;
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, 'webhooks', name));
const hmacHex = (secret: string, body: Buffer | string): string =>
  createHmac('sha256', secret).update(body).digest('hex');

const SECRETS: Record<WebhookSource, string> = {
  github: 'gh-secret',
  gitea: 'gitea-secret',
  gitlab: 'gitlab-secret',
  bitbucket: 'bb-secret',
  generic: 'generic-secret',
  cloudevents: 'ce-secret',
  dockerhub: 'hub-secret-0123456789',
};
const hook = (source: WebhookSource): string => `/hook/${secretDigest(SECRETS[source])}`;

const servers: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A receiver over every sender's endpoint, with its own de-dup memory and poll log. */
async function receiverFor(): Promise<{ receiver: WebhookReceiver; polls: string[] }> {
  const store = createMemoryStore();
  await settingsIn(store, 'flant_gitops').configuration.put(
    validConfiguration({
      git_repo_url: 'https://git.example.com/acme/app.git',
      git_branch_name: 'main',
      docker_image: 'acme/app:latest',
    }),
  );
  const specs: WebhookEndpointSpec[] = (Object.keys(SECRETS) as WebhookSource[]).map((s) => ({
    name: `${s}-hook`,
    mount: 'flant_gitops',
    source: s,
    secret: Buffer.from(SECRETS[s]),
    branch: undefined,
    backends: [],
  }));
  const polls: string[] = [];
  const logger = silentLogger();
  const receiver = createWebhookReceiver({
    endpoints: createEndpointDirectory({ store, staticEndpoints: specs, logger }),
    poller: { requestPoll: (_mount, reason) => polls.push(reason) },
    deduper: createDeliveryDeduper(),
    logger,
    now: () => NOW,
    maxBodyBytes: CAP,
  });
  return { receiver, polls };
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return (app.server.address() as AddressInfo).port;
}

/** How deliveries were served before the fast path: fastify's route alone. */
async function routeOnly(): Promise<{ port: number; polls: string[] }> {
  const { receiver, polls } = await receiverFor();
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.setNotFoundHandler(async (_request, reply) => {
    await reply.code(404).send({ errors: ['not found: webhooks are POST /hook/<digest>'] });
  });
  registerWebhookRoute(app, { receiver, logger: silentLogger() });
  return { port: await listen(app), polls };
}

/**
 * The plugin's webhook server as buildWebhookServer composes it (fast path in front of the same
 * route), counting the requests the fast path left to fastify and the receiver's calls.
 */
async function withFastPath(): Promise<{
  port: number;
  polls: string[];
  reachedFastify: () => number;
  handled: () => number;
}> {
  const { receiver, polls } = await receiverFor();
  let handled = 0;
  const counted: WebhookReceiver = {
    maxBodyBytes: receiver.maxBodyBytes,
    handle: (d) => {
      handled++;
      return receiver.handle(d);
    },
  };
  const fast = createWebhookFastPath({ receiver: counted, logger: silentLogger() });
  let declined = 0;
  const app = fastify({ logger: false, forceCloseConnections: true });
  putWebhookFastPathInFront(app, (req, res) => {
    const taken = fast(req, res);
    if (!taken) declined++;
    return taken;
  });
  app.setNotFoundHandler(async (_request, reply) => {
    await reply.code(404).send({ errors: ['not found: webhooks are POST /hook/<digest>'] });
  });
  registerWebhookRoute(app, { receiver: counted, logger: silentLogger() });
  return {
    port: await listen(app),
    polls,
    reachedFastify: () => declined,
    handled: () => handled,
  };
}

/** One raw HTTP/1.1 exchange on a fresh connection: the answer's bytes, Date blanked. */
async function exchange(port: number, raw: Buffer | string, head = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer to ${String(raw).slice(0, 60)}`));
    }, 10_000);
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(
        Buffer.concat(chunks)
          .toString('latin1')
          .replace(/^Date: .*$/m, 'Date: -'),
      );
    };
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = /^content-length: (\d+)$/im.exec(text.slice(0, end));
      const want = head ? 0 : Number(length?.[1] ?? NaN);
      if (Buffer.byteLength(text, 'latin1') - end - 4 >= want) done();
    });
    sock.on('end', done);
    // A server that closes after its answer may reset a connection it did not read to the end.
    sock.on('error', (e) => (chunks.length > 0 ? done() : reject(e)));
    sock.write(raw);
  });
}

/** A raw POST with a Content-Length. */
function post(path: string, headers: Record<string, string>, body: Buffer | string): Buffer {
  const b = Buffer.from(body);
  const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), b]);
}

const JSON_CT = { 'Content-Type': 'application/json' };

/** A corpus entry: the raw request, and whether the fast path is meant to take it. */
interface Case {
  readonly name: string;
  readonly raw: Buffer | string;
  readonly fast: boolean;
  readonly head?: boolean;
}

function senderCases(): Case[] {
  const gh = fixture('github-push.json');
  const gitea = fixture('gitea-push.json');
  const gitlab = fixture('gitlab-push.json');
  const bbCloud = fixture('bitbucket-cloud-push.json');
  const bbServer = fixture('bitbucket-server-refs-changed.json');
  const hub = fixture('dockerhub-push.json');
  const ce = fixture('cloudevents-structured.json');
  const ceBinary = fixture('cloudevents-binary-data.json');
  const ts = String(NOW.getTime() / 1000);
  const glSig = createHmac('sha256', SECRETS.gitlab)
    .update(`l-2.${ts}.`)
    .update(gitlab)
    .digest('base64');
  const form = Buffer.from(`payload=${encodeURIComponent(gh.toString('utf8'))}`);
  const ghHeaders = (body: Buffer, id: string): Record<string, string> => ({
    ...JSON_CT,
    'X-GitHub-Event': 'push',
    'X-GitHub-Delivery': id,
    'X-Hub-Signature-256': `sha256=${hmacHex(SECRETS.github, body)}`,
  });
  const c = (name: string, raw: Buffer, fast = true): Case => ({ name, raw, fast });
  return [
    c('GitHub push', post(hook('github'), ghHeaders(gh, 'd-1'), gh)),
    c('GitHub push replayed (same id)', post(hook('github'), ghHeaders(gh, 'd-1'), gh)),
    c('GitHub push resent under a new id', post(hook('github'), ghHeaders(gh, 'd-9'), gh)),
    c(
      'GitHub ping',
      post(
        hook('github'),
        {
          ...JSON_CT,
          'X-GitHub-Event': 'ping',
          'X-Hub-Signature-256': `sha256=${hmacHex(SECRETS.github, fixture('github-ping.json'))}`,
        },
        fixture('github-ping.json'),
      ),
    ),
    c(
      'GitHub push, form-encoded',
      post(
        hook('github'),
        {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-GitHub-Event': 'push',
          'X-GitHub-Delivery': 'd-form',
          'X-Hub-Signature-256': `sha256=${hmacHex(SECRETS.github, form)}`,
        },
        form,
      ),
    ),
    c(
      'GitHub wrong signature',
      post(hook('github'), { ...ghHeaders(gh, 'd-2'), 'X-Hub-Signature-256': 'sha256=00' }, gh),
    ),
    c(
      'GitHub legacy sha1 only',
      post(
        hook('github'),
        { ...JSON_CT, 'X-Hub-Signature': 'sha1=00', 'X-GitHub-Event': 'push' },
        gh,
      ),
    ),
    c('GitHub no signature', post(hook('github'), { ...JSON_CT, 'X-GitHub-Event': 'push' }, gh)),
    c(
      'GitHub signed body that is not JSON',
      post(hook('github'), ghHeaders(Buffer.from('not json'), 'd-3'), 'not json'),
    ),
    c(
      'Gitea push',
      post(
        hook('gitea'),
        {
          ...JSON_CT,
          'X-Gitea-Event': 'push',
          'X-Gitea-Delivery': 'g-1',
          'X-Gitea-Signature': hmacHex(SECRETS.gitea, gitea),
        },
        gitea,
      ),
    ),
    c(
      'Forgejo push, wrong signature',
      post(
        hook('gitea'),
        { ...JSON_CT, 'X-Forgejo-Event': 'push', 'X-Forgejo-Signature': 'ab'.repeat(32) },
        gitea,
      ),
    ),
    c(
      'GitLab token',
      post(
        hook('gitlab'),
        {
          ...JSON_CT,
          'X-Gitlab-Event': 'Push Hook',
          'Idempotency-Key': 'l-1',
          'X-Gitlab-Token': SECRETS.gitlab,
        },
        gitlab,
      ),
    ),
    c(
      'GitLab wrong token',
      post(
        hook('gitlab'),
        { ...JSON_CT, 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': 'no' },
        gitlab,
      ),
    ),
    c(
      'GitLab signed scheme',
      post(
        hook('gitlab'),
        {
          ...JSON_CT,
          'X-Gitlab-Event': 'Push Hook',
          'webhook-id': 'l-2',
          'webhook-timestamp': ts,
          'webhook-signature': `v1,${glSig}`,
        },
        gitlab,
      ),
    ),
    c(
      'GitLab signed scheme, stale timestamp',
      post(
        hook('gitlab'),
        {
          ...JSON_CT,
          'X-Gitlab-Event': 'Push Hook',
          'webhook-id': 'l-2',
          'webhook-timestamp': '1000',
          'webhook-signature': `v1,${glSig}`,
        },
        gitlab,
      ),
    ),
    c(
      'Bitbucket Cloud push',
      post(
        hook('bitbucket'),
        {
          ...JSON_CT,
          'X-Event-Key': 'repo:push',
          'X-Request-UUID': 'b-1',
          'X-Hub-Signature': `sha256=${hmacHex(SECRETS.bitbucket, bbCloud)}`,
        },
        bbCloud,
      ),
    ),
    c(
      'Bitbucket Server refs_changed',
      post(
        hook('bitbucket'),
        {
          ...JSON_CT,
          'X-Event-Key': 'repo:refs_changed',
          'X-Request-Id': 'b-2',
          'X-Hub-Signature': `sha256=${hmacHex(SECRETS.bitbucket, bbServer)}`,
        },
        bbServer,
      ),
    ),
    c(
      'Bitbucket unsupported algorithm',
      post(hook('bitbucket'), { ...JSON_CT, 'X-Hub-Signature': 'md5=00' }, bbCloud),
    ),
    c(
      'generic HMAC, sha512',
      post(
        hook('generic'),
        {
          ...JSON_CT,
          'X-Signature': `sha512=${createHmac('sha512', SECRETS.generic).update(gh).digest('hex')}`,
        },
        gh,
      ),
    ),
    c(
      'CloudEvents structured',
      post(
        hook('cloudevents'),
        {
          'Content-Type': 'application/cloudevents+json; charset=utf-8',
          'X-Signature': `sha256=${hmacHex(SECRETS.cloudevents, ce)}`,
        },
        ce,
      ),
    ),
    c(
      'CloudEvents binary',
      post(
        hook('cloudevents'),
        {
          ...JSON_CT,
          'ce-id': 'ce-1',
          'ce-source': 'falco',
          'ce-type': 'falco.rule.output.v1',
          'ce-specversion': '1.0',
          'X-Signature': `sha256=${hmacHex(SECRETS.cloudevents, ceBinary)}`,
        },
        ceBinary,
      ),
    ),
    c('Docker Hub push', post(hook('dockerhub'), JSON_CT, hub)),
    c('Docker Hub push again', post(hook('dockerhub'), JSON_CT, hub)),
  ];
}

function transportCases(): Case[] {
  const gh = fixture('github-push.json');
  const sig = { 'X-Hub-Signature-256': `sha256=${hmacHex(SECRETS.github, gh)}` };
  const path = hook('github');
  const atCap = Buffer.alloc(CAP, 'a');
  const c = (name: string, raw: Buffer | string, fast: boolean, head = false): Case => ({
    name,
    raw,
    fast,
    head,
  });
  return [
    c('unknown digest', post(`/hook/${'0'.repeat(64)}`, { ...JSON_CT, ...sig }, gh), true),
    c('upper-case digest', post(path.toUpperCase().replace('/HOOK/', '/hook/'), JSON_CT, gh), true),
    c('digest too short', post(`/hook/${'a'.repeat(63)}`, JSON_CT, gh), false),
    c('not a hex digest', post('/hook/xyz', JSON_CT, gh), false),
    c('no digest', post('/hook/', JSON_CT, gh), false),
    c('a query string', post(`${path}?x=1`, JSON_CT, gh), false),
    c('a sub-path', post(`${path}/x`, JSON_CT, gh), false),
    c('GET', `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, false),
    c('HEAD', `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, false, true),
    c('PUT with a body', post(path, JSON_CT, gh).toString().replace('POST', 'PUT'), false),
    c('no Content-Type', post(path, sig, gh), false),
    c('a malformed Content-Type', post(path, { 'Content-Type': 'json', ...sig }, gh), false),
    c(
      'a Content-Type with another parameter',
      post(path, { 'Content-Type': 'application/json; boundary=x', ...sig }, gh),
      false,
    ),
    c('an empty body', post(path, { ...JSON_CT, ...sig }, ''), true),
    c('a body at the cap', post(path, JSON_CT, atCap), true),
    c('a declared body over the cap', post(path, JSON_CT, Buffer.alloc(CAP + 1, 'a')), false),
    c(
      'a chunked body over the cap',
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n${(CAP + 10).toString(16)}\r\n${'a'.repeat(CAP + 10)}\r\n0\r\n\r\n`,
      false,
    ),
    c(
      'a chunked valid delivery',
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `X-Hub-Signature-256: ${sig['X-Hub-Signature-256']}\r\nX-GitHub-Event: push\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n${gh.length.toString(16)}\r\n${gh.toString('latin1')}\r\n0\r\n\r\n`,
      false,
    ),
    c(
      'HTTP/1.0',
      post(path, { ...JSON_CT, ...sig, 'X-GitHub-Event': 'push' }, gh)
        .toString('latin1')
        .replace('HTTP/1.1', 'HTTP/1.0'),
      true,
    ),
    c('Connection: close', post(path, { ...JSON_CT, ...sig, Connection: 'close' }, gh), true),
    c('another path', post('/healthz', JSON_CT, gh), false),
  ];
}

describe('webhook fast path: the same answers as the route alone, byte for byte', () => {
  it('for every sender of the spec and the transport edge cases, in one sequence', async () => {
    const before = await routeOnly();
    const after = await withFastPath();
    const cases = [...senderCases(), ...transportCases()];
    let fastTaken = 0;
    for (const k of cases) {
      const reached = after.reachedFastify();
      const want = await exchange(before.port, k.raw, k.head);
      const got = await exchange(after.port, k.raw, k.head);
      expect(got, k.name).toBe(want);
      expect(after.reachedFastify() === reached, `${k.name}: taken by the fast path`).toBe(k.fast);
      if (k.fast) fastTaken++;
    }
    expect(fastTaken).toBeGreaterThan(20);
    expect(after.polls).toEqual(before.polls);
    expect(after.polls.length).toBeGreaterThan(5);
  });
});

/** POST over node's client on `agent`; the status and the body. */
function send(
  port: number,
  agent: Agent,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: hook('github'), method: 'POST', agent, headers },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            socket: req.socket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function ghPush(i: number): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    ref: 'refs/heads/main',
    before: 'a'.repeat(40),
    after: i.toString(16).padStart(40, '0'),
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `k-${i}`,
      'x-hub-signature-256': `sha256=${hmacHex(SECRETS.github, body)}`,
    },
  };
}

describe('webhook fast path: its own edges', () => {
  it('serves 200 deliveries on one keep-alive connection', async () => {
    const s = await withFastPath();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set<unknown>();
      for (let i = 0; i < 200; i++) {
        const d = ghPush(i);
        const r = await send(s.port, agent, d.headers, d.body);
        expect(r).toMatchObject({ status: 202, body: '{"status":"accepted"}' });
        sockets.add(r.socket);
      }
      expect(sockets.size).toBe(1);
      expect(s.polls).toHaveLength(200);
      expect(s.reachedFastify()).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('answers pipelined deliveries in order, as the route alone does', async () => {
    const before = await routeOnly();
    const after = await withFastPath();
    // Three requests in one write: accepted, a replay of it, and one with a wrong signature.
    const d = ghPush(7);
    const raw = Buffer.concat([
      post(hook('github'), d.headers, d.body),
      post(hook('github'), d.headers, d.body),
      post(hook('github'), { ...d.headers, 'x-hub-signature-256': 'sha256=00' }, d.body),
    ]);
    const answers = async (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = connect(port, '127.0.0.1');
        let text = '';
        sock.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          if ((text.match(/HTTP\/1\.1 /g) ?? []).length === 3 && text.endsWith('}')) {
            sock.destroy();
            resolve(text.replace(/^Date: .*$/gm, 'Date: -'));
          }
        });
        sock.on('error', reject);
        sock.write(raw);
      });
    const want = await answers(before.port);
    const got = await answers(after.port);
    expect(got).toBe(want);
    expect(got.match(/\{[^}]*\}/g)).toEqual([
      '{"status":"accepted"}',
      '{"status":"duplicate"}',
      '{"errors":["signature mismatch"]}',
    ]);
    expect(after.reachedFastify()).toBe(0);
  });

  it('answers a slow client once its whole body has arrived', async () => {
    const s = await withFastPath();
    const d = ghPush(1);
    const raw = post(hook('github'), d.headers, d.body);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(s.port, '127.0.0.1');
      let text = '';
      sock.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.endsWith('{"status":"accepted"}')) {
          sock.destroy();
          resolve(text);
        }
      });
      sock.on('error', reject);
      void (async () => {
        // Headers, then the body in three pieces with pauses between them.
        const split = raw.indexOf('\r\n\r\n') + 4;
        const parts = [raw.subarray(0, split + 10), raw.subarray(split + 10, split + 40)];
        parts.push(raw.subarray(split + 40));
        for (const p of parts) {
          sock.write(p);
          await sleep(50);
          // Nothing is answered before the last byte.
          if (p !== parts[2]) expect(text).toBe('');
        }
      })().catch(reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 202 Accepted\r\n/);
    expect(s.polls).toHaveLength(1);
    expect(s.reachedFastify()).toBe(0);
  });

  it('drops a delivery whose client goes away mid-body, and keeps serving', async () => {
    const s = await withFastPath();
    const d = ghPush(2);
    const raw = post(hook('github'), d.headers, d.body);
    await new Promise<void>((resolve) => {
      const sock = connect(s.port, '127.0.0.1', () => {
        sock.write(raw.subarray(0, raw.length - 5), () => {
          setTimeout(() => {
            sock.destroy();
            resolve();
          }, 50);
        });
      });
    });
    await sleep(50);
    expect(s.handled()).toBe(0);
    expect(s.polls).toEqual([]);
    const again = await exchange(s.port, raw);
    expect(again).toMatch(/^HTTP\/1\.1 202 Accepted\r\n/);
    expect(again).toContain('{"status":"accepted"}');
    expect(s.handled()).toBe(1);
    expect(s.reachedFastify()).toBe(0);
  });

  it('takes a body at the cap, and leaves one over it to the route (413, connection closed)', async () => {
    const s = await withFastPath();
    const at = Buffer.alloc(CAP, 'a');
    const ok = await exchange(s.port, post(hook('github'), JSON_CT, at));
    expect(ok).toMatch(/^HTTP\/1\.1 401 /);
    expect(s.reachedFastify()).toBe(0);
    const over = await exchange(s.port, post(hook('github'), JSON_CT, Buffer.alloc(CAP + 1, 'a')));
    expect(over).toMatch(/^HTTP\/1\.1 413 /);
    expect(over).toMatch(/^connection: close\r$/im);
    expect(over).toContain('{"errors":["payload too large"]}');
    expect(s.handled()).toBe(1);
    expect(s.reachedFastify()).toBe(1);
  });
});

/** Counts the requests that reach fastify's routing (an ordinary delivery must not). */
function countFastify(app: FastifyInstance): () => number {
  let reached = 0;
  app.addHook('onRequest', (_req, _reply, done) => {
    reached++;
    done();
  });
  return () => reached;
}

describe('webhook fast path in the service app and the plugin listener', () => {
  it('serves an ordinary delivery of buildWebhookServer in front of fastify', async () => {
    const { receiver, polls } = await receiverFor();
    const app = buildWebhookServer({ receiver, logger: silentLogger() });
    const reached = countFastify(app);
    const port = await listen(app);
    const d = ghPush(4);
    expect(await exchange(port, post(hook('github'), d.headers, d.body))).toContain(
      '{"status":"accepted"}',
    );
    expect(reached()).toBe(0);
    expect(await exchange(port, `GET ${hook('github')} HTTP/1.1\r\nHost: x\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 405 /,
    );
    expect(reached()).toBe(1);
    expect(polls).toHaveLength(1);
  });

  it('serves an ordinary delivery of buildApp in front of fastify; inject still reaches the route', async () => {
    const { receiver, polls } = await receiverFor();
    const app = buildApp({
      store: createMemoryStore(),
      mounts: ['flant_gitops'],
      services: { keyInspector: fakeKeyInspector(), vaultAccess: fakeVaultAccess() },
      authorizer: createRootTokenAuthorizer(TEST_ROOT_TOKEN),
      logger: silentLogger(),
      webhooks: { receiver },
    });
    const reached = countFastify(app);
    const port = await listen(app);
    const d = ghPush(3);
    const over = await exchange(port, post(hook('github'), d.headers, d.body));
    expect(over).toContain('{"status":"accepted"}');
    expect(reached()).toBe(0);
    const injected = await app.inject({
      method: 'POST',
      url: hook('github'),
      headers: d.headers,
      payload: d.body,
    });
    expect(injected.json()).toEqual({ status: 'duplicate' });
    expect(reached()).toBe(1);
    expect(polls).toHaveLength(1);
  });
});
