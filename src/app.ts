/**
 * buildApp(deps) → the HTTP app, which never listens by itself: src/service.ts calls `listen`, tests
 * call `app.inject()`. All adapters arrive through `deps`; nothing here reaches for globals.
 */
import {
  fastify,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { registerApiRoutes } from './http/api-routes.js';
import { registerExtensions } from './http/extensions.js';
import type { AppDeps } from './http/types.js';
import { createWebhookFastPath, putWebhookFastPathInFront } from './http/webhook-fast-path.js';
import { API_PREFIX, registerVaultWire } from './http/vault-wire.js';

export type { AppDeps } from './http/types.js';

/** Parse a body as JSON whatever its content type (the Vault CLI's writes are JSON). */
function parseJsonBody(body: string): unknown {
  if (body.trim() === '') return undefined;
  return JSON.parse(body) as unknown;
}

/** Build the service's HTTP app over injected dependencies. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Malformed URLs and the like: Vault's error envelope instead of fastify's own.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).send({ errors: [error.message] });
    },
  });
  // Vault's LIST verb cannot be served: Node's HTTP parser rejects methods it does not know
  // (http.METHODS has no LIST), and so do fastify's addHttpMethod and light-my-request. The
  // vault/bao CLI lists with GET ?list=true, which is served; operationOf still maps LIST.

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch {
      const err = new Error('request body is not valid JSON') as FastifyError;
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  // Ordinary deliveries to /hook/<digest> are served in front of fastify's routing
  // (src/http/webhook-fast-path.ts); everything else, and app.inject(), goes through fastify.
  if (deps.webhooks) {
    const { receiver } = deps.webhooks;
    putWebhookFastPathInFront(app, createWebhookFastPath({ receiver, logger: deps.logger }));
  }
  const log = deps.logger.child({ component: 'http' });
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status =
      typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 500;
    if (status >= 500) {
      log.error(
        { method: request.method, url: request.url.split('?', 1)[0], error: error.message },
        'unexpected error',
      );
      await reply.code(500).send({ errors: ['internal error'] });
      return;
    }
    log.info({ method: request.method, status, code: error.code }, 'request rejected');
    await reply.code(status).send({ errors: [error.message] });
  });
  const notFound = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await reply.code(404).send({ errors: [] });
  };
  app.setNotFoundHandler(notFound);

  // The Vault API in its own plugin context (fastify encapsulation): Vault's wire hooks run for
  // /v1 requests (their 404s included) and not for every webhook delivery, health check or scrape.
  void app.register(
    async (v1) => {
      v1.setNotFoundHandler(notFound);
      registerVaultWire(v1, deps.authorizer);
      registerApiRoutes(v1, deps);
    },
    { prefix: API_PREFIX },
  );
  registerExtensions(app, deps);
  return app;
}
