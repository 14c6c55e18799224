/**
 * `configure/webhook/<name>` (read, update, delete) and `configure/webhook` (list) — the webhook
 * endpoints of a mount. An endpoint cannot exist without a secret: the secret both authenticates
 * deliveries and names the hook path (`/hook/<hex sha256 of the secret>`, as `sha256sum` prints
 * it for the secret's file). The secret is write-only; reads return the hook path instead.
 * Backends (where verified deliveries are forwarded) can only be set here, behind the API's auth.
 * The fields are the `WebhookEndpoint` schema's; writes reach the receiver's endpoint index
 * through the settings owner's change notices.
 */
import { createHash } from 'node:crypto';
import { assertName, parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { WebhookEndpoint } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** Field help shared by the item and the list paths. */
export const webhookFields = fieldSpecs(WebhookEndpoint);

/** What a read shows: everything but the secret, plus the hook path. */
function describe(w: WebhookEndpoint): Record<string, unknown> {
  const digest = createHash('sha256').update(w.secret, 'utf8').digest('hex');
  return {
    name: w.name,
    source: w.source,
    branch: w.branch,
    backends: [...w.backends],
    hook_path: `/hook/${digest}`,
  };
}

const NAME = 'name';

/** The `configure/webhook/<name>` path. */
export const configureWebhookPath: PathDescriptor = {
  pattern: `configure/webhook/(?<${NAME}>[^/]+)`,
  synopsis: 'A webhook endpoint that requests an early poll of this mount.',
  description:
    'Write replaces the endpoint (secret required every time). Read returns it without the ' +
    'secret, with hook_path = /hook/<hex sha256 of the secret>. Delete removes it.',
  fields: webhookFields,
  operations: {
    async read(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const endpoint = await settingsOf(req, ctx).webhooks.get(name);
      if (!endpoint) throw new AppError('NOT_FOUND', 'no such webhook endpoint');
      return { data: describe(endpoint) };
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: _ignored, ...body } = req.data;
      const endpoint = parseFields(WebhookEndpoint, { ...body, name });
      await settingsOf(req, ctx).webhooks.put(name, endpoint);
      ctx.logger.info({ mount: req.mount, endpoint: name }, 'webhook endpoint written');
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await settingsOf(req, ctx).webhooks.delete(name);
      return undefined;
    },
  },
};

/** The `configure/webhook` list path (`key_info` describes each endpoint, without secrets). */
export const configureWebhooksPath: PathDescriptor = {
  pattern: 'configure/webhook/?',
  synopsis: 'List the webhook endpoints of this mount.',
  description: 'List returns the endpoint names as keys, and key_info with each (no secrets).',
  fields: webhookFields,
  operations: {
    async list(req, ctx) {
      const endpoints = await settingsOf(req, ctx).webhooks.all();
      if (endpoints.length === 0) throw new AppError('NOT_FOUND', 'no webhook endpoints');
      // Own properties even for a name like __proto__ (an assignment would set the prototype).
      const keyInfo = Object.fromEntries(endpoints.map((e) => [e.name, describe(e.value)]));
      return { data: { keys: endpoints.map((e) => e.name), key_info: keyInfo } };
    },
  },
};
