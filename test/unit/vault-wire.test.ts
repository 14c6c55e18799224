/**
 * Vault's wire habits (src/http/vault-wire.ts) hold for every /v1 answer — routes, 404s and
 * errors alike — and for nothing outside /v1: the API and its hooks live in their own fastify
 * plugin context, so a webhook delivery, a health check or a scrape never runs them.
 */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createRootTokenAuthorizer } from '../../src/http/auth.js';
import { VAULT_JSON_TYPE, WRAPPING_REFUSED } from '../../src/http/vault-wire.js';
import { silentLogger } from '../../src/logging.js';
import { createMetrics } from '../../src/metrics.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { WebhookDelivery, WebhookReceiver } from '../../src/webhook/receiver.js';
import { fakeKeyInspector, fakeVaultAccess, TEST_ROOT_TOKEN } from '../helpers/api-app.js';

const HOOK = `/hook/${'a'.repeat(64)}`;

function appWithReceiver(): { app: ReturnType<typeof buildApp>; seen: WebhookDelivery[] } {
  const seen: WebhookDelivery[] = [];
  const receiver: WebhookReceiver = {
    maxBodyBytes: 1024,
    async handle(d) {
      seen.push(d);
      return { status: 202, body: { status: 'accepted' } };
    },
  };
  const app = buildApp({
    store: createMemoryStore(),
    mounts: ['flant_gitops'],
    services: { keyInspector: fakeKeyInspector(), vaultAccess: fakeVaultAccess() },
    authorizer: createRootTokenAuthorizer(TEST_ROOT_TOKEN),
    logger: silentLogger(),
    webhooks: { receiver },
    metrics: createMetrics(),
  });
  return { app, seen };
}

const token = { 'x-vault-token': TEST_ROOT_TOKEN };
const wrap = { ...token, 'x-vault-wrap-ttl': '60s' };

describe('Vault wire habits are scoped to /v1', () => {
  const apiCases = [
    { name: 'a path read', method: 'GET', url: '/v1/flant_gitops/configure', status: 404 },
    {
      name: 'a 404 under /v1 (no route)',
      method: 'OPTIONS',
      url: '/v1/flant_gitops/x',
      status: 404,
    },
    { name: 'token lookup-self', method: 'GET', url: '/v1/auth/token/lookup-self', status: 200 },
    { name: 'path help', method: 'GET', url: '/v1/flant_gitops/configure?help=1', status: 200 },
  ] as const;

  for (const c of apiCases) {
    it(`${c.name}: answered as application/json exactly`, async () => {
      const { app } = appWithReceiver();
      const r = await app.inject({ method: c.method, url: c.url, headers: token });
      expect(r.statusCode).toBe(c.status);
      expect(r.headers['content-type']).toBe(VAULT_JSON_TYPE);
    });

    it(`${c.name}: refused with 400 when a wrapped response is asked for`, async () => {
      const { app } = appWithReceiver();
      const r = await app.inject({ method: c.method, url: c.url, headers: wrap });
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toBe(VAULT_JSON_TYPE);
      expect(r.json()).toEqual({ errors: [WRAPPING_REFUSED] });
    });
  }

  it('a body that is not JSON under /v1: 400 as application/json exactly', async () => {
    const { app } = appWithReceiver();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/flant_gitops/configure',
      headers: { ...token, 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toBe(VAULT_JSON_TYPE);
  });

  it('a webhook delivery carrying X-Vault-Wrap-TTL reaches the receiver, answered with charset', async () => {
    const { app, seen } = appWithReceiver();
    const r = await app.inject({ method: 'POST', url: HOOK, headers: wrap, payload: '{}' });
    expect(r.statusCode).toBe(202);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(seen).toHaveLength(1);
  });

  for (const url of ['/healthz', '/nothing-here']) {
    it(`${url} is not a Vault path: no wrapping refusal, fastify's content type`, async () => {
      const { app } = appWithReceiver();
      const r = await app.inject({ method: 'GET', url, headers: wrap });
      expect(r.statusCode).not.toBe(400);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    });
  }
});
