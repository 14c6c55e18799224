/**
 * An HTTP app that serves only the webhook route, for the OpenBao plugin: a Vault path cannot
 * carry the raw body a webhook signature covers (OpenBao parses request bodies before a plugin
 * sees them), so the plugin process listens on its own socket with the very route the
 * standalone service serves (webhook-route.ts, with the same fast path in front of it), and
 * nothing else — no API, no token check.
 */
import { fastify, type FastifyInstance } from 'fastify';
import type { Logger } from '../logging.js';
import type { WebhookReceiver } from '../webhook/receiver.js';
import { createWebhookFastPath, putWebhookFastPathInFront } from './webhook-fast-path.js';
import { registerWebhookRoute } from './webhook-route.js';

/** Build (never listen) the webhook-only app. Anything but `POST /hook/<digest>` gets 404. */
export function buildWebhookServer(deps: {
  readonly receiver: WebhookReceiver;
  readonly logger: Logger;
}): FastifyInstance {
  const app = fastify({ logger: false, forceCloseConnections: true });
  // Ordinary deliveries are served in front of fastify, as by the service (webhook-fast-path.ts).
  putWebhookFastPathInFront(app, createWebhookFastPath(deps));
  app.setNotFoundHandler(async (_request, reply) => {
    await reply.code(404).send({ errors: ['not found: webhooks are POST /hook/<digest>'] });
  });
  registerWebhookRoute(app, deps);
  return app;
}
