/**
 * Deliveries as the hosts really send them, for the approvers' workflow (issue 15, defects 1, 2
 * and 8): a push of the signature refs (what `git signatures push` moves) requests an early poll
 * from every sender that reports ref pushes; Gitea/Forgejo form bodies verify the way those hosts
 * sign them; a captured delivery resent under a fresh delivery id is a replay. GitHub deliveries
 * are signed with GitHub's own `@octokit/webhooks-methods`.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { mountScope, StorageKeys } from '../../src/config/stored.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { createWebhookReceiver, type WebhookReply } from '../../src/webhook/receiver.js';
import type { WebhookSource } from '../../src/webhook/types.js';
import { secretDigest } from '../../src/webhook/verify.js';
import { FIXTURES } from '../helpers/bench.js';

const SECRET = 'approvers-webhook-secret';
const NOW = new Date('2024-05-01T10:00:00Z');
const fixtureJson = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(FIXTURES, 'webhooks', name), 'utf8')) as Record<string, unknown>;
const hex = (body: string | Buffer): string =>
  createHmac('sha256', SECRET).update(body).digest('hex');

/** A receiver with one endpoint of `source` following branch main, and the polls it requested. */
async function receiverFor(source: WebhookSource) {
  const store = createMemoryStore();
  await store.put(mountScope('flant_gitops') + StorageKeys.configuration, {
    git_repo_url: 'https://git.example.com/acme/app.git',
    git_branch_name: 'main',
    docker_image: `acme/app@sha256:${'a'.repeat(64)}`,
    commands: ['true'],
  });
  const polls: string[] = [];
  const receiver = createWebhookReceiver({
    endpoints: createEndpointDirectory({
      store,
      staticEndpoints: [
        {
          name: `${source}-hook`,
          mount: 'flant_gitops',
          source,
          secret: Buffer.from(SECRET),
          branch: undefined,
          backends: [],
        },
      ],
      logger: silentLogger(),
    }),
    poller: { requestPoll: (mount) => polls.push(mount) },
    deduper: createDeliveryDeduper(),
    logger: silentLogger(),
    now: () => NOW,
  });
  const post = (headers: Record<string, string>, body: string | Buffer): Promise<WebhookReply> =>
    receiver.handle({
      method: 'POST',
      digest: secretDigest(SECRET),
      headers: { 'content-type': 'application/json', ...headers },
      body: Buffer.from(body),
    });
  return { post, polls };
}

/** GitHub's push of `ref`, signed by octokit exactly as GitHub signs it. */
async function githubPush(ref: string, id: string): Promise<[Record<string, string>, string]> {
  const body = JSON.stringify({ ...fixtureJson('github-push.json'), ref, after: 'c'.repeat(40) });
  return [
    {
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-hub-signature-256': await sign(SECRET, body),
    },
    body,
  ];
}

/**
 * Go's url.QueryEscape, which Gitea's `url.Values.Encode()` uses for form bodies: every byte but
 * A-Z a-z 0-9 - _ . ~ percent-encoded (upper-case hex), a space as '+'.
 */
function goQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

describe('a push of the signature refs requests an early poll (defect 1)', () => {
  it.each(['refs/notes/signatures', 'refs/tags/latest-signature'])(
    'GitHub push of %s → accepted, one poll',
    async (ref) => {
      const { post, polls } = await receiverFor('github');
      const r = await post(...(await githubPush(ref, `id-${ref}`)));
      expect(r).toMatchObject({ status: 202, body: { status: 'accepted' } });
      expect(polls).toEqual(['flant_gitops']);
    },
  );

  it('a GitHub push of another tag is still ignored', async () => {
    const { post, polls } = await receiverFor('github');
    const r = await post(...(await githubPush('refs/tags/v1.0', 'id-v1')));
    expect(r.body).toEqual({ status: 'ignored' });
    expect(polls).toEqual([]);
  });

  it('Gitea push of refs/notes/signatures → accepted', async () => {
    const { post, polls } = await receiverFor('gitea');
    const body = JSON.stringify({
      ...fixtureJson('gitea-push.json'),
      ref: 'refs/notes/signatures',
    });
    const r = await post({ 'x-gitea-event': 'push', 'x-gitea-signature': hex(body) }, body);
    expect(r.body).toEqual({ status: 'accepted' });
    expect(polls).toHaveLength(1);
  });

  it('GitLab Tag Push Hook of latest-signature → accepted; of another tag → ignored', async () => {
    const { post, polls } = await receiverFor('gitlab');
    const base = fixtureJson('gitlab-push.json');
    for (const [tag, expected] of [
      ['latest-signature', 'accepted'],
      ['v2', 'ignored'],
    ] as const) {
      const body = JSON.stringify({ ...base, object_kind: 'tag_push', ref: `refs/tags/${tag}` });
      const r = await post({ 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRET }, body);
      expect(r.body, tag).toEqual({ status: expected });
    }
    expect(polls).toHaveLength(1);
  });

  it('Bitbucket Cloud tag and Bitbucket Server ref changes of the signature refs → accepted', async () => {
    const cloud = await receiverFor('bitbucket');
    const cloudBody = JSON.stringify({
      push: { changes: [{ new: { type: 'tag', name: 'latest-signature' } }] },
      repository: { links: { html: { href: 'https://bitbucket.org/acme/app' } } },
    });
    const sig = { 'x-hub-signature': `sha256=${hex(cloudBody)}` };
    expect((await cloud.post({ 'x-event-key': 'repo:push', ...sig }, cloudBody)).body).toEqual({
      status: 'accepted',
    });
    const server = await receiverFor('bitbucket');
    const serverBody = JSON.stringify({
      changes: [{ ref: { id: 'refs/notes/signatures', type: 'NOTES' } }],
    });
    const headers = {
      'x-event-key': 'repo:refs_changed',
      'x-hub-signature': `sha256=${hex(serverBody)}`,
    };
    expect((await server.post(headers, serverBody)).body).toEqual({ status: 'accepted' });
  });
});

describe('Gitea/Forgejo form bodies verify as those hosts sign them (defect 2)', () => {
  it.each(['x-gitea-signature', 'x-forgejo-signature'])(
    'payload=<urlencoded JSON> signed over the JSON, %s → accepted',
    async (header) => {
      const { post, polls } = await receiverFor('gitea');
      const json = JSON.stringify(fixtureJson('gitea-push.json'), null, 2);
      const form = `payload=${goQueryEscape(json)}`;
      const r = await post(
        {
          'content-type': 'application/x-www-form-urlencoded',
          [header.replace('signature', 'event')]: 'push',
          [header]: hex(json),
        },
        form,
      );
      expect(r).toMatchObject({ status: 202, body: { status: 'accepted' } });
      expect(polls).toHaveLength(1);
    },
  );

  it('a form body signed with another secret is still 403', async () => {
    const { post } = await receiverFor('gitea');
    const json = JSON.stringify(fixtureJson('gitea-push.json'));
    const wrong = createHmac('sha256', 'other').update(json).digest('hex');
    const r = await post(
      {
        'content-type': 'application/x-www-form-urlencoded',
        'x-gitea-event': 'push',
        'x-gitea-signature': wrong,
      },
      `payload=${goQueryEscape(json)}`,
    );
    expect(r.status).toBe(403);
  });
});

describe('replays are keyed on what the signature covers (defect 8)', () => {
  it('a captured GitHub delivery resent with a fresh X-GitHub-Delivery is a duplicate', async () => {
    const { post, polls } = await receiverFor('github');
    const [headers, body] = await githubPush('refs/heads/main', 'original-id');
    expect((await post(headers, body)).body).toEqual({ status: 'accepted' });
    const resent = { ...headers, 'x-github-delivery': 'fresh-id-chosen-by-the-attacker' };
    expect((await post(resent, body)).body).toEqual({ status: 'duplicate' });
    expect(polls).toHaveLength(1);
  });

  it('a different push (another signed body) is accepted', async () => {
    const { post, polls } = await receiverFor('github');
    await post(...(await githubPush('refs/heads/main', 'a')));
    await post(...(await githubPush('refs/notes/signatures', 'b')));
    expect(polls).toHaveLength(2);
  });

  it('a generic delivery replayed byte for byte is a duplicate', async () => {
    const { post, polls } = await receiverFor('generic');
    const body = '{"after":"abc"}';
    const headers = { 'x-signature': `sha256=${hex(body)}` };
    expect((await post(headers, body)).body).toEqual({ status: 'accepted' });
    expect((await post(headers, body)).body).toEqual({ status: 'duplicate' });
    expect(polls).toHaveLength(1);
  });
});
