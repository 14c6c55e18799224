/**
 * `configure/vault_request` — the list of configured Vault requests, with `key_info` describing
 * each one (as the original did), so `bao list -detailed` shows them at a glance.
 */
import { AppError } from '../errors.js';
import { StorageKeys } from '../config/stored.js';
import type { VaultRequestConfig } from '../vault/types.js';
import { vaultRequestFields } from './configure-vault-request.js';
import type { PathDescriptor } from './types.js';

/** The `configure/vault_request` list path. */
export const configureVaultRequestsPath: PathDescriptor = {
  pattern: 'configure/vault_request/?',
  synopsis: 'List the configured Vault requests.',
  description: 'List returns the request names as keys, and key_info with each request.',
  fields: vaultRequestFields,
  operations: {
    async list(_req, ctx) {
      const names = (await ctx.store.list(StorageKeys.vaultRequestPrefix)).filter(
        (n) => !n.endsWith('/'),
      );
      const keyInfo: Record<string, VaultRequestConfig> = {};
      const keys: string[] = [];
      for (const n of names) {
        const e = await ctx.store.get<VaultRequestConfig>(StorageKeys.vaultRequest(n));
        if (!e) continue;
        keys.push(n);
        keyInfo[n] = e.value;
      }
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no vault requests');
      return { data: { keys, key_info: keyInfo } };
    },
  },
};
