/**
 * `configure/webhook/<name>` (read, update, delete) and `configure/webhook` (list) — the webhook
 * endpoints of a mount. An endpoint cannot exist without a secret: the secret both authenticates
 * deliveries and names the hook path (`/hook/<hex sha256 of the secret>`, as `sha256sum` prints
 * it for the secret's file). The secret is write-only; reads return the hook path instead.
 * Backends (where verified deliveries are forwarded) can only be set here, behind the API's auth.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys, type StoredWebhook } from '../config/stored.js';
import { WEBHOOK_SOURCES, type WebhookSource } from '../webhook/types.js';
import { assertName, commaListField, parseFields, stringField } from './fields.js';
import type { FieldSpec, PathDescriptor } from './types.js';

function backendRule(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return 'each backend must be an http(s) URL';
  if (u.username !== '' || u.password !== '') return 'backend URLs must not carry credentials';
  return undefined;
}

/** The body of a webhook endpoint write (the name comes from the URL). */
export const WebhookEndpointInput = z.strictObject({
  source: stringField({
    check: (s) =>
      WEBHOOK_SOURCES.includes(s.toLowerCase() as WebhookSource)
        ? undefined
        : `must be one of ${WEBHOOK_SOURCES.join(' ')}`,
  }).transform((s) => s.toLowerCase() as WebhookSource),
  secret: stringField({ nonEmpty: true }),
  branch: stringField({
    default: '',
    check: (s) => (/\s/.test(s) ? 'must not contain spaces' : undefined),
  }),
  backends: commaListField({ default: [] }).superRefine((list, ctx) => {
    for (const b of list) {
      const rule = backendRule(b);
      if (rule !== undefined) ctx.addIssue({ code: 'custom', message: rule });
    }
  }),
});

/** Field help shared by the item and the list paths. */
export const webhookFields: Readonly<Record<string, FieldSpec>> = {
  name: {
    type: 'name',
    required: true,
    description: 'Endpoint name (from the URL), used in logs.',
  },
  source: {
    type: 'string',
    required: true,
    description: `Sender: ${WEBHOOK_SOURCES.join(', ')}.`,
  },
  secret: {
    type: 'string',
    required: true,
    sensitive: true,
    description:
      'Shared secret (write-only; e.g. secret=@secret.key). Deliveries go to /hook/<sha256 of it>.',
  },
  branch: {
    type: 'string',
    default: '',
    description: "Only pushes to this branch request a poll; empty = the mount's git_branch_name.",
  },
  backends: {
    type: 'comma-list',
    default: [],
    description: 'http(s) URLs each verified delivery is forwarded to, unchanged.',
  },
};

/** What a read shows: everything but the secret, plus the hook path. */
function describe(w: StoredWebhook): Record<string, unknown> {
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
      const e = await ctx.store.get<StoredWebhook>(StorageKeys.webhook(name));
      if (!e) throw new AppError('NOT_FOUND', 'no such webhook endpoint');
      return { data: describe(e.value) };
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: _ignored, ...body } = req.data;
      const parsed = parseFields(WebhookEndpointInput, body);
      const stored: StoredWebhook = { name, ...parsed };
      await ctx.store.put(StorageKeys.webhook(name), stored);
      ctx.logger.info({ mount: req.mount, endpoint: name }, 'webhook endpoint written');
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await ctx.store.delete(StorageKeys.webhook(name));
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
    async list(_req, ctx) {
      const names = (await ctx.store.list(StorageKeys.webhookPrefix)).filter(
        (n) => !n.endsWith('/'),
      );
      const keys: string[] = [];
      const keyInfo: Record<string, Record<string, unknown>> = {};
      for (const n of names) {
        const e = await ctx.store.get<StoredWebhook>(StorageKeys.webhook(n));
        if (!e) continue;
        keys.push(n);
        keyInfo[n] = describe(e.value);
      }
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no webhook endpoints');
      return { data: { keys, key_info: keyInfo } };
    },
  },
};
