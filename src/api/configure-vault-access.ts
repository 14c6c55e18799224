/**
 * `configure_vault_access` — the AppRole identity used on the target Vault. A write hands the
 * operator's credentials to the VaultAccessService, which logs in, mints the service's own
 * secret id and stores that; the operator's secret id is then destroyed. Reads never show it.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys } from '../config/stored.js';
import type { VaultAccessConfig } from '../vault/types.js';
import { isHttpUrl } from '../config/rules/http-url.js';
import { durationField, parseFields, stringField } from './fields.js';
import type { PathDescriptor } from './types.js';

function checkUrl(s: string): string | undefined {
  return isHttpUrl(s) ? undefined : 'must be an http(s) URL';
}

const required = stringField({ nonEmpty: true });

/** The body of a `configure_vault_access` write. */
export const VaultAccess = z.strictObject({
  vault_addr: stringField({ check: checkUrl }).transform((s) => s.replace(/\/+$/, '')),
  vault_tls_server_name: required,
  vault_cacert: stringField({
    default: '',
    check: (s) =>
      s === '' || s.includes('-----BEGIN CERTIFICATE-----')
        ? undefined
        : 'must be empty or PEM certificates',
  }),
  role_name: required,
  role_id: required,
  secret_id: required,
  secret_id_ttl: durationField({ default: 3600, min: 120 }),
  approle_mount_point: stringField({
    check: (s) => (s.replace(/^\/+|\/+$/g, '') === '' ? 'must not be empty' : undefined),
  }).transform((s) => s.replace(/^\/+|\/+$/g, '')),
  token_ttl: durationField({ default: 600, min: 20 }),
});

/** The `configure_vault_access` path. */
export const configureVaultAccessPath: PathDescriptor = {
  pattern: 'configure_vault_access',
  synopsis: 'AppRole access to the target Vault used for the wrapped vault requests.',
  description:
    "Write logs in with role_id and secret_id, replaces that secret id with one of the service's own " +
    '(rotated whenever 10% of secret_id_ttl has passed) and destroys the given one. Read returns the ' +
    'access without any secret id; delete removes it.',
  fields: {
    vault_addr: {
      type: 'string',
      required: true,
      description: 'Target Vault URL, e.g. https://vault.example.com:8200.',
    },
    vault_tls_server_name: {
      type: 'string',
      required: true,
      description: 'TLS server name for the connection; also passed to the command.',
    },
    vault_cacert: {
      type: 'string',
      default: '',
      description: 'PEM CA certificate(s) of the target Vault (e.g. vault_cacert=@ca.pem).',
    },
    role_name: { type: 'string', required: true, description: 'AppRole role name.' },
    role_id: { type: 'string', required: true, description: 'AppRole role id.' },
    secret_id: {
      type: 'string',
      required: true,
      sensitive: true,
      description: 'An AppRole secret id; destroyed after the service minted its own.',
    },
    secret_id_ttl: {
      type: 'duration',
      default: '1h',
      description: 'TTL of the secret ids the service mints (>= 120s).',
    },
    approle_mount_point: {
      type: 'string',
      required: true,
      description: 'AppRole mount, e.g. auth/approle (trailing / trimmed).',
    },
    token_ttl: {
      type: 'duration',
      default: '10m',
      description: 'Longest time a login token is used before logging in again (>= 20s).',
    },
  },
  operations: {
    async read(_req, ctx) {
      const e = await ctx.store.get<VaultAccessConfig>(StorageKeys.vaultAccess);
      if (!e) throw new AppError('NOT_FOUND', 'no vault access');
      const { secret_id: _secret, ...shown } = e.value;
      return { data: shown };
    },
    async update(req, ctx) {
      const cfg: VaultAccessConfig = parseFields(VaultAccess, req.data);
      await ctx.services.vaultAccess.configure(cfg, async (stored) => {
        await ctx.store.put(StorageKeys.vaultAccess, stored);
      });
      return undefined;
    },
    async delete(_req, ctx) {
      await ctx.store.delete(StorageKeys.vaultAccess);
      return undefined;
    },
  },
};
