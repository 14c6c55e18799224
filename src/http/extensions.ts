/**
 * Routes outside the Vault-style /v1 API: liveness and readiness, the webhook receiver
 * (`/hook/<digest>`) and the Prometheus endpoint (`/metrics`). They get the same injected
 * dependencies as the API. None of them needs a token: a hook authenticates by its own secret,
 * and health and metrics carry no secrets.
 */
import type { FastifyInstance } from 'fastify';
import { registerWebhookRoute } from './webhook-route.js';
import type { AppDeps } from './types.js';

/** Register the non-API routes. */
export function registerExtensions(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', async (_req, reply) => {
    await reply.code(200).send({ status: 'ok' });
  });
  app.get('/readyz', async (_req, reply) => {
    const ready = deps.ready ? await deps.ready().catch(() => false) : true;
    await reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });
  if (deps.webhooks) {
    registerWebhookRoute(app, { receiver: deps.webhooks.receiver, logger: deps.logger });
  }
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => {
      await reply
        .code(200)
        .header('content-type', metrics.registry.contentType)
        .send(await metrics.registry.metrics());
    });
  }
}
