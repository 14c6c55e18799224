import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretDigest, verifyDelivery } from '../../src/webhook/verify.js';
import type { WebhookHeaders, WebhookSource } from '../../src/webhook/types.js';

const SECRET = Buffer.from("It's a Secret to Everybody");
const BODY = Buffer.from('Hello, World!');
const NOW = new Date('2024-05-01T10:00:00Z');
const hmac = (algo: string, key: Buffer, data: Buffer | string) =>
  createHmac(algo, key).update(data).digest();
const hex256 = hmac('sha256', SECRET, BODY).toString('hex');

function stdSig(id: string, ts: number, key: Buffer = SECRET, body: Buffer = BODY): string {
  return `v1,${hmac('sha256', key, Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).toString('base64')}`;
}
const ts = Math.floor(NOW.getTime() / 1000);

describe('GitHub documented validation example', () => {
  it('verifies sha256=757107ea… for "Hello, World!" with "It\'s a Secret to Everybody"', () => {
    const headers = {
      'x-hub-signature-256':
        'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    expect(verifyDelivery('github', headers, BODY, SECRET, NOW)).toEqual({ ok: true });
  });

  it('fails when one byte of the body changed', () => {
    const headers = { 'x-hub-signature-256': `sha256=${hex256}` };
    const changed = Buffer.from('Hello, World?');
    expect(verifyDelivery('github', headers, changed, SECRET, NOW)).toMatchObject({
      ok: false,
      kind: 'mismatch',
    });
  });
});

type Case = {
  name: string;
  source: WebhookSource;
  headers: WebhookHeaders;
  expected: 'ok' | 'missing' | 'mismatch' | 'stale';
  body?: Buffer;
};

const wrongHex = hmac('sha256', Buffer.from('another secret'), BODY).toString('hex');
const cases: Case[] = [
  { name: 'github: no signature header', source: 'github', headers: {}, expected: 'missing' },
  {
    name: 'github: legacy sha1 X-Hub-Signature alone is not accepted',
    source: 'github',
    headers: { 'x-hub-signature': `sha1=${hmac('sha1', SECRET, BODY).toString('hex')}` },
    expected: 'missing',
  },
  {
    name: 'github: sha1= in X-Hub-Signature-256 is rejected',
    source: 'github',
    headers: { 'x-hub-signature-256': `sha1=${hmac('sha1', SECRET, BODY).toString('hex')}` },
    expected: 'mismatch',
  },
  {
    name: 'github: signature made with another secret',
    source: 'github',
    headers: { 'x-hub-signature-256': `sha256=${wrongHex}` },
    expected: 'mismatch',
  },
  {
    name: 'github: truncated signature',
    source: 'github',
    headers: { 'x-hub-signature-256': `sha256=${hex256.slice(0, 40)}` },
    expected: 'mismatch',
  },
  {
    name: 'gitea: X-Gitea-Signature bare hex',
    source: 'gitea',
    headers: { 'x-gitea-signature': hex256 },
    expected: 'ok',
  },
  {
    name: 'forgejo: X-Forgejo-Signature bare hex',
    source: 'gitea',
    headers: { 'x-forgejo-signature': hex256 },
    expected: 'ok',
  },
  {
    name: 'gogs: X-Gogs-Signature bare hex',
    source: 'gitea',
    headers: { 'x-gogs-signature': hex256 },
    expected: 'ok',
  },
  {
    name: 'gitea: one of two signature copies is wrong',
    source: 'gitea',
    headers: { 'x-gitea-signature': hex256, 'x-gogs-signature': wrongHex },
    expected: 'mismatch',
  },
  {
    name: 'gitea: sha256= prefix is not Gitea’s format',
    source: 'gitea',
    headers: { 'x-gitea-signature': `sha256=${hex256}` },
    expected: 'mismatch',
  },
  { name: 'gitea: no signature', source: 'gitea', headers: {}, expected: 'missing' },
  {
    name: 'gitlab: X-Gitlab-Token equal to the secret',
    source: 'gitlab',
    headers: { 'x-gitlab-token': SECRET.toString() },
    expected: 'ok',
  },
  {
    name: 'gitlab: wrong X-Gitlab-Token',
    source: 'gitlab',
    headers: { 'x-gitlab-token': "It's a Secret to Everybody!" },
    expected: 'mismatch',
  },
  {
    name: 'gitlab: neither token nor signature',
    source: 'gitlab',
    headers: {},
    expected: 'missing',
  },
  {
    name: 'gitlab signed: valid v1 signature',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': stdSig('msg_1', ts),
    },
    expected: 'ok',
  },
  {
    name: 'gitlab signed: one of several space-separated signatures matches',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${stdSig('msg_1', ts)}`,
    },
    expected: 'ok',
  },
  {
    name: 'gitlab signed: signature over another id',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(ts),
      'webhook-signature': stdSig('msg_1', ts),
    },
    expected: 'mismatch',
  },
  {
    name: 'gitlab signed: timestamp 6 minutes old is stale',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts - 360),
      'webhook-signature': stdSig('msg_1', ts - 360),
    },
    expected: 'stale',
  },
  {
    name: 'gitlab signed: timestamp 6 minutes in the future is stale',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts + 360),
      'webhook-signature': stdSig('msg_1', ts + 360),
    },
    expected: 'stale',
  },
  {
    name: 'gitlab signed: timestamp 4 minutes old is within tolerance',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts - 240),
      'webhook-signature': stdSig('msg_1', ts - 240),
    },
    expected: 'ok',
  },
  {
    name: 'gitlab signed: webhook-id missing',
    source: 'gitlab',
    headers: { 'webhook-timestamp': String(ts), 'webhook-signature': stdSig('msg_1', ts) },
    expected: 'missing',
  },
  {
    name: 'gitlab signed: valid signature but wrong X-Gitlab-Token alongside',
    source: 'gitlab',
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': stdSig('msg_1', ts),
      'x-gitlab-token': 'nope',
    },
    expected: 'mismatch',
  },
  {
    name: 'bitbucket: X-Hub-Signature sha256=',
    source: 'bitbucket',
    headers: { 'x-hub-signature': `sha256=${hex256}` },
    expected: 'ok',
  },
  {
    name: 'bitbucket: sha1 is not accepted',
    source: 'bitbucket',
    headers: { 'x-hub-signature': `sha1=${hmac('sha1', SECRET, BODY).toString('hex')}` },
    expected: 'mismatch',
  },
  { name: 'bitbucket: no signature', source: 'bitbucket', headers: {}, expected: 'missing' },
  {
    name: 'generic: X-Signature sha256=',
    source: 'generic',
    headers: { 'x-signature': `sha256=${hex256}` },
    expected: 'ok',
  },
  {
    name: 'generic: X-Signature sha512=',
    source: 'generic',
    headers: { 'x-signature': `sha512=${hmac('sha512', SECRET, BODY).toString('hex')}` },
    expected: 'ok',
  },
  {
    name: 'generic: uppercase hex is accepted',
    source: 'generic',
    headers: { 'x-signature': `sha256=${hex256.toUpperCase()}` },
    expected: 'ok',
  },
  {
    name: 'generic: wrong X-Signature',
    source: 'generic',
    headers: { 'x-signature': `sha256=${wrongHex}` },
    expected: 'mismatch',
  },
  {
    name: 'cloudevents: generic HMAC header',
    source: 'cloudevents',
    headers: { 'x-signature': `sha256=${hex256}`, 'ce-id': '1' },
    expected: 'ok',
  },
  {
    name: 'cloudevents: no X-Signature',
    source: 'cloudevents',
    headers: { 'ce-id': '1' },
    expected: 'missing',
  },
  {
    name: 'dockerhub: the secret path is the credential',
    source: 'dockerhub',
    headers: {},
    expected: 'ok',
  },
];

describe('verifyDelivery per source', () => {
  it.each(cases)('$name → $expected', ({ source, headers, expected, body }) => {
    const r = verifyDelivery(source, headers, body ?? BODY, SECRET, NOW);
    if (expected === 'ok') expect(r).toEqual({ ok: true });
    else expect(r).toMatchObject({ ok: false, kind: expected });
  });

  it('gitlab signed: a whsec_ secret is a base64 key (Standard Webhooks)', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    const secret = Buffer.from(`whsec_${key.toString('base64')}`);
    const headers = {
      'webhook-id': 'm',
      'webhook-timestamp': String(ts),
      'webhook-signature': stdSig('m', ts, key),
    };
    expect(verifyDelivery('gitlab', headers, BODY, secret, NOW)).toEqual({ ok: true });
  });

  it('honours a configured timestamp tolerance', () => {
    const headers = {
      'webhook-id': 'm',
      'webhook-timestamp': String(ts - 60),
      'webhook-signature': stdSig('m', ts - 60),
    };
    expect(
      verifyDelivery('gitlab', headers, BODY, SECRET, NOW, { timestampToleranceSec: 30 }),
    ).toMatchObject({ kind: 'stale' });
  });
});

describe('secretDigest', () => {
  it('is the lower-case hex SHA-256 of the bytes, as sha256sum prints it', () => {
    // printf 'abc' | sha256sum
    expect(secretDigest(Buffer.from('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
