/**
 * `configure/vault_request/<name>` — one Vault request made (wrapped) before the commands run;
 * its wrapping token reaches the command as `VAULT_REQUEST_TOKEN_<NAME>`.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys } from '../config/stored.js';
import type { VaultRequestConfig } from '../vault/types.js';
import {
  assertName,
  durationField,
  invalidInput,
  objectField,
  parseFields,
  stringField,
} from './fields.js';
import { requestTokenEnvName as requestEnvName } from '../config/rules/env-name.js';
import type { FieldSpec, PathDescriptor } from './types.js';

const METHODS = ['GET', 'POST', 'LIST', 'PUT', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** The body of a vault request write (the name comes from the URL). */
export const VaultRequest = z.strictObject({
  path: stringField({
    check: (s) =>
      s.startsWith('/') && !/\s/.test(s)
        ? undefined
        : 'must start with / (e.g. /v1/secret/data/app) and contain no spaces',
  }),
  method: stringField({
    default: 'GET',
    check: (s) =>
      METHODS.includes(s.toUpperCase() as Method)
        ? undefined
        : `must be one of ${METHODS.join(' ')}`,
  }).transform((s) => s.toUpperCase() as Method),
  options: objectField({ default: {} }),
  wrap_ttl: durationField({ default: 60, min: 60 }),
});

/** Field help shared by the item and the list paths. */
export const vaultRequestFields: Readonly<Record<string, FieldSpec>> = {
  name: {
    type: 'name',
    required: true,
    description:
      'Request name (from the URL); the token reaches the command as VAULT_REQUEST_TOKEN_<NAME>.',
  },
  path: {
    type: 'string',
    required: true,
    description: 'Vault API path, starting with / (usually /v1/...).',
  },
  method: { type: 'string', default: 'GET', description: 'One of GET POST LIST PUT DELETE.' },
  options: {
    type: 'object',
    default: {},
    description: 'JSON body sent with the request when non-empty.',
  },
  wrap_ttl: { type: 'duration', default: '1m', description: 'TTL of the wrapping token (>= 60s).' },
};

/** Capture of the request name in the path. */
const NAME = 'name';

/** The `configure/vault_request/<name>` path. */
export const configureVaultRequestPath: PathDescriptor = {
  pattern: `configure/vault_request/(?<${NAME}>[^/]+)`,
  synopsis: 'One Vault request made in wrapped mode before the commands run.',
  description:
    'Write replaces the request (absent fields take their defaults). A name whose variable ' +
    'VAULT_REQUEST_TOKEN_<NAME> equals that of another request is rejected. Read returns it; delete removes it.',
  fields: vaultRequestFields,
  operations: {
    async read(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const e = await ctx.store.get<VaultRequestConfig>(StorageKeys.vaultRequest(name));
      if (!e) throw new AppError('NOT_FOUND', 'no such vault request');
      return { data: { ...e.value } };
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: _ignored, ...body } = req.data;
      const parsed = parseFields(VaultRequest, body);
      const env = requestEnvName(name);
      for (const other of await ctx.store.list(StorageKeys.vaultRequestPrefix)) {
        if (other !== name && !other.endsWith('/') && requestEnvName(other) === env) {
          throw invalidInput([
            `name: must not give the same variable ${env} as the existing request ${other}`,
          ]);
        }
      }
      const stored: VaultRequestConfig = { name, ...parsed };
      await ctx.store.put(StorageKeys.vaultRequest(name), stored);
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await ctx.store.delete(StorageKeys.vaultRequest(name));
      return undefined;
    },
  },
};
