/**
 * `configure/vault_request` — the list of configured Vault requests, with `key_info` describing
 * each one (as the original did), so `bao list -detailed` shows them at a glance.
 */
import type { VaultRequest } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { vaultRequestFields } from './configure-vault-request.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure/vault_request` list path. */
export const configureVaultRequestsPath: PathDescriptor = {
  pattern: 'configure/vault_request/?',
  synopsis: 'List the configured Vault requests.',
  description: 'List returns the request names as keys, and key_info with each request.',
  fields: vaultRequestFields,
  operations: {
    async list(req, ctx) {
      const requests = await settingsOf(req, ctx).vaultRequests.all();
      if (requests.length === 0) throw new AppError('NOT_FOUND', 'no vault requests');
      // Own properties even for a name like __proto__ (an assignment would set the prototype).
      const keyInfo: Record<string, VaultRequest> = Object.fromEntries(
        requests.map((r) => [r.name, r.value]),
      );
      return { data: { keys: requests.map((r) => r.name), key_info: keyInfo } };
    },
  },
};
