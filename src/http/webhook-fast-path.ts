/**
 * The hot path of the webhook transport: a plain node:http request listener that serves an
 * ordinary delivery — `POST /hook/<64 hex>` with a numeric Content-Length within the cap and a
 * simple Content-Type — without fastify's request/reply machinery (routing, hooks, content-type
 * parsing, reply serialization), which cost more than half of a delivery's CPU time (bench 5).
 * It sits in front of fastify's routing on fastify's own server: whatever it does not take (any other path
 * or method, a chunked or oversize body, no or an unusual Content-Type, a closing app) goes to
 * fastify untouched, where webhook-route.ts answers it as before. What it takes it answers exactly
 * as that route would — same status, headers in the same order, same body; webhook-transport
 * tests compare the two byte for byte — because both hand the delivery to the same receiver
 * (verification, replay, poll request, forwarding and the delivery metrics all live there) and
 * write its reply with the same `webhookReplyHead`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../logging.js';
import type { WebhookReceiver } from '../webhook/receiver.js';
import type { WebhookHeaders } from '../webhook/types.js';
import { webhookErrorReply, webhookReplyHead } from './webhook-reply.js';

const PREFIX = '/hook/';
const HEX64 = /^[0-9a-fA-F]{64}$/;
const DIGITS = /^[0-9]{1,15}$/;
/**
 * A media type fastify's parser takes as is (a token/token, optionally with a token charset):
 * anything else — a missing or malformed type, other parameters — is left to fastify, which
 * answers a malformed one with its own 415.
 */
const SIMPLE_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+(?:\s*;\s*charset=[\w-]+)?$/;

/** Serves a delivery when it can (returns true), or leaves the request untouched (false). */
export type WebhookFastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What the fast path needs: the receiver and the logger the route uses. */
export interface WebhookFastPathDeps {
  readonly receiver: WebhookReceiver;
  readonly logger: Logger;
}

/** Whether fastify's route would see this request as an ordinary, bounded, typed delivery. */
function ordinary(req: IncomingMessage, maxBodyBytes: number): boolean {
  if (req.method !== 'POST' || req.httpVersionMajor !== 1) return false;
  const url = req.url ?? '';
  if (url.length !== PREFIX.length + 64 || !url.startsWith(PREFIX)) return false;
  if (!HEX64.test(url.slice(PREFIX.length))) return false;
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  if (length === undefined || !DIGITS.test(length) || Number(length) > maxBodyBytes) return false;
  const type = h['content-type'];
  return type !== undefined && SIMPLE_TYPE.test(type);
}

/** Write a reply as webhook-route.ts's `send` does. */
function write(
  res: ServerResponse,
  answer: Parameters<typeof webhookReplyHead>[0],
  body: string,
): void {
  res.writeHead(answer.status, webhookReplyHead(answer, body));
  res.end(body);
}

/** Create the fast path over `deps.receiver`. */
export function createWebhookFastPath(deps: WebhookFastPathDeps): WebhookFastPath {
  const { receiver } = deps;
  const log = deps.logger.child({ component: 'webhook' });

  function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    receiver
      .handle({
        method: 'POST',
        digest: (req.url ?? '').slice(PREFIX.length),
        headers: req.headers as WebhookHeaders,
        body,
      })
      .then(
        (reply) => write(res, reply, JSON.stringify(reply.body)),
        (error: unknown) => {
          const failed = webhookErrorReply(error, log);
          write(res, failed, JSON.stringify(failed.body));
        },
      );
  }

  return (req, res) => {
    if (!ordinary(req, receiver.maxBodyBytes)) return false;
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    // A client gone before the end of its body gets no answer, as from fastify (which answers
    // a closed socket): nothing reaches the receiver, nothing is counted or logged.
    req.on('error', () => undefined);
    req.on('end', () => {
      // Always a copy: the delivery outlives this request (forwarding) and must not pin or
      // alias the socket's read buffers. Node's parser delivers exactly Content-Length bytes.
      answer(req, res, Buffer.concat(chunks, received));
    });
    return true;
  };
}

/**
 * Put `fast` in front of `app`'s routing: the server fastify made for the app (with its own
 * timeouts and options) offers each request to `fast` first and passes the rest to fastify's
 * handler. Once the app starts closing every request goes to fastify, which answers 503 while it
 * drains, as without the fast path. Call it right after `fastify()`, before `listen`.
 *
 * Why not `serverFactory`: with one, fastify no longer binds the other addresses of a host name
 * (`localhost` → 127.0.0.1 and ::1). Those extra servers, made at `listen`, keep fastify's plain
 * handler: a delivery to one of them is served by the route, answered the same, just not as fast.
 */
export function putWebhookFastPathInFront(app: FastifyInstance, fast: WebhookFastPath): void {
  const server = app.server;
  const routed = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  const fastify = routed[0];
  if (routed.length !== 1 || fastify === undefined) {
    throw new Error(`expected fastify's one request listener, found ${routed.length}`);
  }
  let closing = false;
  server.removeListener('request', fastify);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing || !fast(req, res)) fastify.call(server, req, res);
  });
  // fastify sets its own closing flag just before it runs the preClose hooks.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
}
