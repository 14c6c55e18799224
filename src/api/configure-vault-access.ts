/**
 * `configure_vault_access` — the AppRole identity used on the target Vault. A write hands the
 * operator's credentials to the VaultAccessService, which logs in, mints the service's own
 * secret id and stores that; the operator's secret id is then destroyed. Reads never show it.
 * The fields are the `VaultAccessInput` schema's (the stored `VaultAccess` adds what the
 * service sets itself).
 */
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { VaultAccessInput } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure_vault_access` path. */
export const configureVaultAccessPath: PathDescriptor = {
  pattern: 'configure_vault_access',
  synopsis: 'AppRole access to the target Vault used for the wrapped vault requests.',
  description:
    "Write logs in with role_id and secret_id, replaces that secret id with one of the service's own " +
    '(rotated whenever 10% of secret_id_ttl has passed) and destroys the given one. Read returns the ' +
    'access without any secret id; delete removes it.',
  fields: fieldSpecs(VaultAccessInput),
  operations: {
    async read(req, ctx) {
      const access = await settingsOf(req, ctx).vaultAccess.get();
      if (!access) throw new AppError('NOT_FOUND', 'no vault access');
      const { secret_id: _secret, ...shown } = access;
      return { data: shown };
    },
    async update(req, ctx) {
      const input = parseFields(VaultAccessInput, req.data);
      const settings = settingsOf(req, ctx);
      await ctx.services.vaultAccess.configure(input, (stored) => settings.vaultAccess.put(stored));
      return undefined;
    },
    async delete(req, ctx) {
      await settingsOf(req, ctx).vaultAccess.delete();
      return undefined;
    },
  },
};
