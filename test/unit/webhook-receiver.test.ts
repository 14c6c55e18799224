import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fastify, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger, type Logger } from '../../src/logging.js';
import { registerWebhookRoute } from '../../src/http/webhook-route.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { createWebhookReceiver } from '../../src/webhook/receiver.js';
import type { WebhookEndpointSpec, WebhookSource } from '../../src/webhook/types.js';
import { secretDigest } from '../../src/webhook/verify.js';
import { FIXTURES } from '../helpers/bench.js';
import { settingsIn, validConfiguration } from '../helpers/settings.js';

const NOW = new Date('2024-05-01T10:00:00Z');
const fixture = (name: string) => readFileSync(join(FIXTURES, 'webhooks', name));
const sha256 = (secret: string, body: Buffer) =>
  createHmac('sha256', secret).update(body).digest('hex');

interface Bench {
  app: FastifyInstance;
  polls: { mount: string; reason: string }[];
  post(
    secret: string,
    body: Buffer | string | Readable,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }>;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function spec(
  source: WebhookSource,
  secret: string,
  more: Partial<WebhookEndpointSpec> = {},
): WebhookEndpointSpec {
  return {
    name: `${source}-hook`,
    mount: 'flant_gitops',
    source,
    secret: Buffer.from(secret),
    branch: undefined,
    backends: [],
    ...more,
  };
}

async function bench(
  endpoints: WebhookEndpointSpec[],
  opts: { maxBodyBytes?: number; dockerImage?: string; logger?: Logger } = {},
): Promise<Bench> {
  const store = createMemoryStore();
  for (const mount of new Set(endpoints.map((e) => e.mount))) {
    await settingsIn(store, mount).configuration.put(
      validConfiguration({
        git_repo_url: 'https://git.example.com/acme/app.git',
        git_branch_name: 'main',
        docker_image: opts.dockerImage ?? `acme/app@sha256:${'a'.repeat(64)}`,
      }),
    );
  }
  const polls: { mount: string; reason: string }[] = [];
  const logger = opts.logger ?? silentLogger();
  const receiver = createWebhookReceiver({
    endpoints: createEndpointDirectory({ store, staticEndpoints: endpoints, logger }),
    poller: { requestPoll: (mount, reason) => polls.push({ mount, reason }) },
    deduper: createDeliveryDeduper(),
    logger,
    now: () => NOW,
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
  });
  const app = fastify();
  registerWebhookRoute(app, { receiver, logger });
  await app.ready();
  apps.push(app);
  return {
    app,
    polls,
    async post(secret, body, headers = {}) {
      const res = await app.inject({
        method: 'POST',
        url: `/hook/${secretDigest(Buffer.from(secret))}`,
        headers: { 'content-type': 'application/json', ...headers },
        payload: body,
      });
      return { status: res.statusCode, json: res.json(), headers: res.headers };
    },
  };
}

const GH_SECRET = "It's a Secret to Everybody";
const HELLO = Buffer.from('Hello, World!');
const HELLO_SIG = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('receiver: fixed order of checks', () => {
  it('answers the documented GitHub example (ping) with 200 pong', async () => {
    const b = await bench([spec('github', GH_SECRET)]);
    const r = await b.post(GH_SECRET, HELLO, {
      'x-hub-signature-256': HELLO_SIG,
      'x-github-event': 'ping',
    });
    expect(r).toMatchObject({ status: 200, json: { status: 'pong' } });
    expect(b.polls).toEqual([]);
  });

  it('rejects the example with one changed byte: 403', async () => {
    const b = await bench([spec('github', GH_SECRET)]);
    const r = await b.post(GH_SECRET, 'Hello, World?', {
      'x-hub-signature-256': HELLO_SIG,
      'x-github-event': 'ping',
    });
    expect(r).toMatchObject({ status: 403, json: { errors: ['signature mismatch'] } });
  });

  it('rejects a missing signature header: 401', async () => {
    const b = await bench([spec('github', GH_SECRET)]);
    const r = await b.post(GH_SECRET, HELLO, { 'x-github-event': 'ping' });
    expect(r.status).toBe(401);
  });

  it('answers an unknown digest with 404 (and a malformed one too)', async () => {
    const b = await bench([spec('github', GH_SECRET)]);
    expect(
      (await b.post('not configured', HELLO, { 'x-hub-signature-256': HELLO_SIG })).status,
    ).toBe(404);
    const res = await b.app.inject({ method: 'POST', url: '/hook/xyz', payload: HELLO });
    expect(res.statusCode).toBe(404);
  });

  it.each(['GET', 'PUT', 'DELETE'] as const)(
    'answers %s with 405 and Allow: POST',
    async (method) => {
      const b = await bench([spec('github', GH_SECRET)]);
      const res = await b.app.inject({
        method,
        url: `/hook/${secretDigest(Buffer.from(GH_SECRET))}`,
      });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('POST');
    },
  );

  it('answers a body over the cap with 413 before authentication (declared length)', async () => {
    const b = await bench([spec('github', GH_SECRET)], { maxBodyBytes: 1024 });
    const big = Buffer.alloc(4096, 'a');
    const r = await b.post(GH_SECRET, big, {
      'x-hub-signature-256': `sha256=${sha256(GH_SECRET, big)}`,
    });
    expect(r).toMatchObject({ status: 413, json: { errors: ['payload too large'] } });
  });

  it('answers a chunked body over the cap with 413 (counted while reading)', async () => {
    const b = await bench([spec('github', GH_SECRET)], { maxBodyBytes: 1024 });
    const stream = Readable.from([Buffer.alloc(800, 'a'), Buffer.alloc(800, 'b')]);
    const r = await b.post(GH_SECRET, stream, { 'x-hub-signature-256': 'sha256=00' });
    expect(r.status).toBe(413);
  });

  it('accepts a body exactly at the cap', async () => {
    const b = await bench([spec('generic', 'generic-secret')], { maxBodyBytes: 1024 });
    const body = Buffer.alloc(1024, 'a');
    const r = await b.post('generic-secret', body, {
      'x-signature': `sha256=${sha256('generic-secret', body)}`,
    });
    expect(r.status).toBe(202);
  });
});

type SourceCase = {
  name: string;
  source: WebhookSource;
  secret: string;
  fixture: string;
  headers: (body: Buffer, secret: string) => Record<string, string>;
  status: number;
  outcome: string;
};

const good: SourceCase[] = [
  {
    name: 'GitHub push to main',
    source: 'github',
    secret: 'gh-secret',
    fixture: 'github-push.json',
    headers: (b, s) => ({
      'x-github-event': 'push',
      'x-github-delivery': 'd-1',
      'x-hub-signature-256': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'GitHub push to another branch',
    source: 'github',
    secret: 'gh-secret',
    fixture: 'github-push-other-branch.json',
    headers: (b, s) => ({
      'x-github-event': 'push',
      'x-github-delivery': 'd-2',
      'x-hub-signature-256': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'ignored',
  },
  {
    name: 'GitHub ping',
    source: 'github',
    secret: 'gh-secret',
    fixture: 'github-ping.json',
    headers: (b, s) => ({
      'x-github-event': 'ping',
      'x-github-delivery': 'd-3',
      'x-hub-signature-256': `sha256=${sha256(s, b)}`,
    }),
    status: 200,
    outcome: 'pong',
  },
  {
    name: 'GitHub event other than push',
    source: 'github',
    secret: 'gh-secret',
    fixture: 'github-ping.json',
    headers: (b, s) => ({
      'x-github-event': 'issues',
      'x-github-delivery': 'd-4',
      'x-hub-signature-256': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'ignored',
  },
  {
    name: 'Gitea push',
    source: 'gitea',
    secret: 'gitea-secret',
    fixture: 'gitea-push.json',
    headers: (b, s) => ({
      'x-gitea-event': 'push',
      'x-gitea-delivery': 'g-1',
      'x-gitea-signature': sha256(s, b),
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'Forgejo push',
    source: 'gitea',
    secret: 'gitea-secret',
    fixture: 'gitea-push.json',
    headers: (b, s) => ({
      'x-forgejo-event': 'push',
      'x-forgejo-delivery': 'f-1',
      'x-forgejo-signature': sha256(s, b),
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'GitLab push with X-Gitlab-Token',
    source: 'gitlab',
    secret: 'gitlab-secret',
    fixture: 'gitlab-push.json',
    headers: (_b, s) => ({
      'x-gitlab-event': 'Push Hook',
      'idempotency-key': 'l-1',
      'x-gitlab-token': s,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'GitLab push, signed scheme',
    source: 'gitlab',
    secret: 'gitlab-secret',
    fixture: 'gitlab-push.json',
    headers: (b, s) => {
      const ts = String(NOW.getTime() / 1000);
      const sig = createHmac('sha256', s).update(`l-2.${ts}.`).update(b).digest('base64');
      return {
        'x-gitlab-event': 'Push Hook',
        'webhook-id': 'l-2',
        'webhook-timestamp': ts,
        'webhook-signature': `v1,${sig}`,
      };
    },
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'Bitbucket Cloud repo:push',
    source: 'bitbucket',
    secret: 'bb-secret',
    fixture: 'bitbucket-cloud-push.json',
    headers: (b, s) => ({
      'x-event-key': 'repo:push',
      'x-request-uuid': 'b-1',
      'x-hub-signature': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'Bitbucket Server repo:refs_changed',
    source: 'bitbucket',
    secret: 'bb-secret',
    fixture: 'bitbucket-server-refs-changed.json',
    headers: (b, s) => ({
      'x-event-key': 'repo:refs_changed',
      'x-request-id': 'b-2',
      'x-hub-signature': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'Bitbucket diagnostics:ping',
    source: 'bitbucket',
    secret: 'bb-secret',
    fixture: 'github-ping.json',
    headers: (b, s) => ({
      'x-event-key': 'diagnostics:ping',
      'x-hub-signature': `sha256=${sha256(s, b)}`,
    }),
    status: 200,
    outcome: 'pong',
  },
  {
    name: 'generic HMAC',
    source: 'generic',
    secret: 'generic-secret',
    fixture: 'github-push.json',
    headers: (b, s) => ({
      'x-signature': `sha512=${createHmac('sha512', s).update(b).digest('hex')}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'CloudEvents binary mode',
    source: 'cloudevents',
    secret: 'ce-secret',
    fixture: 'cloudevents-binary-data.json',
    headers: (b, s) => ({
      'ce-id': 'c-1',
      'ce-specversion': '1.0',
      'ce-type': 'falco.rule.output.v1',
      'ce-source': 'falco.org/falcosidekick',
      'x-signature': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'CloudEvents structured mode',
    source: 'cloudevents',
    secret: 'ce-secret',
    fixture: 'cloudevents-structured.json',
    headers: (b, s) => ({
      'content-type': 'application/cloudevents+json',
      'x-signature': `sha256=${sha256(s, b)}`,
    }),
    status: 202,
    outcome: 'accepted',
  },
  {
    name: 'Docker Hub push of the mount’s repository',
    source: 'dockerhub',
    secret: 'dh-secret',
    fixture: 'dockerhub-push.json',
    headers: () => ({}),
    status: 202,
    outcome: 'accepted',
  },
];

describe('receiver: each source with a real-shaped payload', () => {
  it.each(good)('$name → $status $outcome', async (c) => {
    const b = await bench([spec(c.source, c.secret)]);
    const body = fixture(c.fixture);
    const r = await b.post(c.secret, body, c.headers(body, c.secret));
    expect(r).toMatchObject({ status: c.status, json: { status: c.outcome } });
    expect(b.polls.length).toBe(c.outcome === 'accepted' ? 1 : 0);
    if (c.outcome === 'accepted') expect(b.polls[0]?.mount).toBe('flant_gitops');
  });

  it.each(good.filter((c) => c.source !== 'dockerhub'))(
    '$name signed with another secret → 403, no poll',
    async (c) => {
      const b = await bench([spec(c.source, c.secret)]);
      const body = fixture(c.fixture);
      const r = await b.post(c.secret, body, c.headers(body, 'another secret'));
      expect(r.status).toBe(403);
      expect(b.polls).toEqual([]);
    },
  );

  it('GitLab signed scheme with a stale timestamp → 403 stale, no poll', async () => {
    const b = await bench([spec('gitlab', 'gitlab-secret')]);
    const body = fixture('gitlab-push.json');
    const ts = String(NOW.getTime() / 1000 - 600);
    const sig = createHmac('sha256', 'gitlab-secret')
      .update(`l-9.${ts}.`)
      .update(body)
      .digest('base64');
    const r = await b.post('gitlab-secret', body, {
      'x-gitlab-event': 'Push Hook',
      'webhook-id': 'l-9',
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${sig}`,
    });
    expect(r).toMatchObject({ status: 403, json: { errors: ['stale timestamp'] } });
    expect(b.polls).toEqual([]);
  });

  it('Docker Hub push of another repository → 202 ignored, no poll', async () => {
    const b = await bench([spec('dockerhub', 'dh-secret')], {
      dockerImage: `docker.io/acme/other:1.0@sha256:${'b'.repeat(64)}`,
    });
    const r = await b.post('dh-secret', fixture('dockerhub-push.json'));
    expect(r).toMatchObject({ status: 202, json: { status: 'ignored' } });
    expect(b.polls).toEqual([]);
  });

  it('Docker Hub repo_name matches a docker.io/… reference with tag and digest', async () => {
    const b = await bench([spec('dockerhub', 'dh-secret')], {
      dockerImage: `docker.io/acme/app:1.2@sha256:${'c'.repeat(64)}`,
    });
    expect((await b.post('dh-secret', fixture('dockerhub-push.json'))).json).toEqual({
      status: 'accepted',
    });
  });

  it('a verified body that is not the sender’s payload → 400', async () => {
    const b = await bench([spec('github', 'gh-secret')]);
    const body = Buffer.from('not json');
    const r = await b.post('gh-secret', body, {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sha256('gh-secret', body)}`,
    });
    expect(r.status).toBe(400);
    expect(b.polls).toEqual([]);
  });

  it('an explicit endpoint branch filter overrides the mount’s branch', async () => {
    const b = await bench([spec('github', 'gh-secret', { branch: 'feature-x' })]);
    const body = fixture('github-push-other-branch.json');
    const r = await b.post('gh-secret', body, {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sha256('gh-secret', body)}`,
    });
    expect(r.json).toEqual({ status: 'accepted' });
  });
});

describe('receiver: de-duplication and bursts', () => {
  const pushHeaders = (id: string, body: Buffer) => ({
    'x-github-event': 'push',
    'x-github-delivery': id,
    'x-hub-signature-256': `sha256=${sha256('gh-secret', body)}`,
  });

  it('200 distinct pushes with distinct ids → 200 answers 202 and 200 poll requests', async () => {
    const b = await bench([spec('github', 'gh-secret')]);
    // Distinct pushes differ in their signed body (`after`); the same body is a replay.
    const push = JSON.parse(fixture('github-push.json').toString()) as Record<string, unknown>;
    const bodies = Array.from({ length: 200 }, (_, i) =>
      Buffer.from(JSON.stringify({ ...push, after: i.toString(16).padStart(40, '0') })),
    );
    const answers = await Promise.all(
      bodies.map((body, i) => b.post('gh-secret', body, pushHeaders(`id-${i}`, body))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(200).fill(202));
    expect(answers.every((a) => (a.json as { status: string }).status === 'accepted')).toBe(true);
    expect(b.polls.length).toBe(200);
  });

  it.each([
    [
      'GitHub X-GitHub-Delivery',
      'github',
      'github-push.json',
      (b: Buffer) => pushHeaders('same', b),
    ],
    [
      'CloudEvents ce-id',
      'cloudevents',
      'cloudevents-binary-data.json',
      (b: Buffer) => ({
        'ce-id': 'same',
        'ce-specversion': '1.0',
        'ce-type': 't',
        'x-signature': `sha256=${sha256('gh-secret', b)}`,
      }),
    ],
    [
      'GitLab Idempotency-Key',
      'gitlab',
      'gitlab-push.json',
      () => ({
        'x-gitlab-event': 'Push Hook',
        'idempotency-key': 'same',
        'x-gitlab-token': 'gh-secret',
      }),
    ],
    [
      'Bitbucket X-Request-UUID',
      'bitbucket',
      'bitbucket-cloud-push.json',
      (b: Buffer) => ({
        'x-event-key': 'repo:push',
        'x-request-uuid': 'same',
        'x-hub-signature': `sha256=${sha256('gh-secret', b)}`,
      }),
    ],
  ] as const)('a replayed %s → 202 duplicate, no extra poll', async (_n, source, file, headers) => {
    const b = await bench([spec(source, 'gh-secret')]);
    const body = fixture(file);
    expect((await b.post('gh-secret', body, headers(body))).json).toEqual({ status: 'accepted' });
    const replay = await b.post('gh-secret', body, headers(body));
    expect(replay).toMatchObject({ status: 202, json: { status: 'duplicate' } });
    expect(b.polls.length).toBe(1);
  });

  it('a digest shared by endpoints of two mounts triggers both', async () => {
    const b = await bench([
      spec('github', 'gh-secret', { mount: 'alpha' }),
      spec('github', 'gh-secret', { mount: 'beta' }),
    ]);
    const body = fixture('github-push.json');
    expect((await b.post('gh-secret', body, pushHeaders('x', body))).status).toBe(202);
    expect(b.polls.map((p) => p.mount).sort()).toEqual(['alpha', 'beta']);
  });
});

describe('receiver: logs', () => {
  it('name the endpoint but never contain a secret, digest or signature header value', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const needles: string[] = [];
    for (const c of good) {
      const b = await bench([spec(c.source, c.secret)], { logger });
      const body = fixture(c.fixture);
      for (const secret of [c.secret, 'a wrong secret']) {
        const headers = c.headers(body, secret);
        await b.post(c.secret, body, headers);
        for (const [k, v] of Object.entries(headers)) {
          if (/signature|token/.test(k)) needles.push(v.replace(/^(sha256|sha512|v1),?=?/, ''));
        }
      }
      needles.push(c.secret, secretDigest(Buffer.from(c.secret)));
    }
    const text = lines.join('');
    expect(text).toContain('"endpoint":"github-hook"');
    expect(text).toContain('webhook rejected');
    for (const n of needles) expect(text).not.toContain(n);
  });
});
