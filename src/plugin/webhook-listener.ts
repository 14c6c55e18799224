/**
 * The plugin's own webhook listener: the service's receiver (webhook/receiver.ts) behind the
 * service's route (http/webhook-route.ts), on a socket of the plugin process. It exists because
 * OpenBao parses a request body before a plugin sees it, so a Vault path never carries the raw
 * bytes a webhook's HMAC covers. Each mount runs in its own process, so each needs its own
 * address; a taken address fails Initialize with a message that says so, instead of a mount
 * that silently never hears its webhooks.
 */
import type { Logger } from '../logging.js';
import { AppError } from '../errors.js';
import { buildWebhookServer } from '../http/webhook-server.js';
import type { PollRequester } from '../webhook/types.js';
import type { Store } from '../storage/store.js';
import { createDeliveryDeduper } from '../webhook/dedupe.js';
import type { SettingsEvents } from '../config/settings-events.js';
import { createEndpointDirectory } from '../webhook/endpoints.js';
import { createForwarder } from '../webhook/forward.js';
import { createWebhookReceiver } from '../webhook/receiver.js';

/** A listening webhook receiver. */
export interface WebhookListener {
  /** e.g. http://127.0.0.1:8081 */
  readonly address: string;
  /** Drop the endpoint index (a webhook or the configuration was written). */
  invalidate(): void;
  /** Stop listening (open connections closed) and wait for forwards in flight. */
  close(): Promise<void>;
}

/** What the listener is built from. */
export interface WebhookListenerOptions {
  readonly host: string;
  readonly port: number;
  /** The whole-store view of this mount (`mounts/<mount>/…`), as the service's directory expects. */
  readonly store: Store;
  readonly poller: PollRequester;
  readonly logger: Logger;
  /** API writes of webhooks or the configuration refresh the endpoint index at once. */
  readonly settingsEvents: SettingsEvents;
}

/** Bind and serve; rejects with INVALID_INPUT naming the address when it cannot be bound. */
export async function startWebhookListener(opts: WebhookListenerOptions): Promise<WebhookListener> {
  const logger = opts.logger.child({ component: 'webhook' });
  const endpoints = createEndpointDirectory({
    store: opts.store,
    settingsEvents: opts.settingsEvents,
    logger,
  });
  const forwarder = createForwarder(logger);
  const receiver = createWebhookReceiver({
    endpoints,
    poller: opts.poller,
    deduper: createDeliveryDeduper(),
    forwarder,
    logger,
  });
  const app = buildWebhookServer({ receiver, logger });
  let address: string;
  try {
    address = await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await app.close().catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const hint =
      code === 'EADDRINUSE'
        ? ' (in use: another mount of this plugin, or another program; give each mount its own' +
          ' address with `bao secrets enable -options=webhook_listen=HOST:PORT`)'
        : '';
    throw new AppError(
      'INVALID_INPUT',
      `webhook listener ${opts.host}:${opts.port} cannot be bound: ${code}${hint}`,
    );
  }
  logger.info({ address }, 'webhook listener started');
  return {
    address,
    invalidate: () => endpoints.invalidate(),
    async close() {
      await app.close();
      await forwarder.idle();
    },
  };
}
