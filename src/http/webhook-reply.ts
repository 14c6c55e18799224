/**
 * How a receiver reply goes on the wire, shared by the two ways a delivery reaches the receiver:
 * fastify's route (webhook-route.ts) and the fast path in front of it (webhook-fast-path.ts).
 * Keeping the head and the error mapping here is what makes their answers identical.
 */
import type { Logger } from '../logging.js';
import type { WebhookReply } from '../webhook/receiver.js';

/** The content type of every webhook answer. */
export const WEBHOOK_JSON_TYPE = 'application/json; charset=utf-8';

/** The answer to a body over the cap (the connection is closed: the rest is not read). */
export const TOO_LARGE: WebhookReply = {
  status: 413,
  body: { errors: ['payload too large'] },
  headers: { connection: 'close' },
};

/**
 * The response headers of `answer` with its serialized `body`, in the order fastify writes them
 * (the reply's own headers, then content-type, then content-length).
 */
export function webhookReplyHead(answer: WebhookReply, body: string): Record<string, string> {
  return {
    ...answer.headers,
    'content-type': WEBHOOK_JSON_TYPE,
    'content-length': String(Buffer.byteLength(body)),
  };
}

/** What an error thrown while serving a delivery may carry (fastify's errors carry both). */
interface ErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * The answer to an error raised while a delivery is read or handled: 413 for a body over the cap,
 * the error's own 4xx with its message, else a logged, generic 500.
 */
export function webhookErrorReply(error: unknown, log: Logger): WebhookReply {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  if (e.statusCode === 413 || e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return TOO_LARGE;
  const status = e.statusCode !== undefined && e.statusCode < 500 ? e.statusCode : 500;
  if (status >= 500) log.error({ code: e.code, error: e.message }, 'webhook failed');
  return {
    status,
    // As fastify would serialize it, an error without a message included.
    body: { errors: [status >= 500 ? 'internal error' : (e.message as string)] },
  };
}
