/**
 * Routes outside the Vault-style /v1 API. This is the one place where the webhook receiver
 * (`/hook/<digest>`) and the Prometheus endpoint (`/metrics`) are registered; they get the same
 * injected dependencies as the API.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './types.js';

/** Register the non-API routes: `/healthz` now; `/hook/<digest>` and `/metrics` go here. */
export function registerExtensions(app: FastifyInstance, _deps: AppDeps): void {
  app.get('/healthz', async (_req, reply) => {
    await reply.code(200).send({ status: 'ok' });
  });
}
