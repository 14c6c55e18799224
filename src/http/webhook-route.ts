/**
 * The HTTP transport of the webhook receiver: `POST /hook/:digest`, with a raw-body parser scoped
 * to this route (the HMAC must see the exact bytes) and the size cap enforced twice — on the
 * declared Content-Length before anything is read, and by fastify's per-route `bodyLimit` while
 * reading (chunked bodies) — so an oversize body is never buffered beyond the cap. Other methods
 * get 405. The rules themselves live in src/webhook/receiver.ts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../logging.js';
import type { WebhookHeaders } from '../webhook/types.js';
import type { WebhookReceiver, WebhookReply } from '../webhook/receiver.js';
import { TOO_LARGE, WEBHOOK_JSON_TYPE, webhookErrorReply } from './webhook-reply.js';

/** What the route needs. */
export interface WebhookRouteDeps {
  readonly receiver: WebhookReceiver;
  readonly logger: Logger;
}

/** Send a reply as a ready JSON string (no serializer lookup per delivery); returns the reply. */
function send(reply: FastifyReply, answer: WebhookReply): FastifyReply {
  if (answer.headers) void reply.headers(answer.headers);
  return reply.code(answer.status).type(WEBHOOK_JSON_TYPE).send(JSON.stringify(answer.body));
}

/**
 * Register the webhook route on `app` (inside its own encapsulated context, so the raw-body
 * parser and error handler do not leak into the API routes).
 */
export function registerWebhookRoute(app: FastifyInstance, deps: WebhookRouteDeps): void {
  const { receiver } = deps;
  const log = deps.logger.child({ component: 'webhook' });
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: receiver.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler(async (error, _request, reply) => {
      await send(reply, webhookErrorReply(error, log));
    });
    // Refuse a declared oversize body before a byte of it is read.
    // (A callback hook: no promise per delivery.)
    scope.addHook('onRequest', (request, reply, done) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (request.method === 'POST' && declared > receiver.maxBodyBytes) {
        send(reply, TOO_LARGE);
        return;
      }
      done();
    });
    scope.route<{ Params: { digest: string } }>({
      method: 'POST',
      url: '/hook/:digest',
      bodyLimit: receiver.maxBodyBytes,
      handler: async (request, reply) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const answer = await receiver.handle({
          method: 'POST',
          digest: request.params.digest,
          headers: request.headers as WebhookHeaders,
          body,
        });
        return send(reply, answer);
      },
    });
    scope.route({
      method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: '/hook/:digest',
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        return send(
          reply,
          await receiver.handle({
            method: request.method,
            digest: '',
            headers: {},
            body: Buffer.alloc(0),
          }),
        );
      },
    });
  });
}
