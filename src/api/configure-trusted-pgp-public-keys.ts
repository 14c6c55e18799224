/**
 * `configure/trusted_pgp_public_key` — the collection of trusted keys: write a key with its name
 * in the body (as the original did: `name=alice public_key=@alice.asc`), read or list the names.
 */
import { parseFields } from '../config/field-errors.js';
import { TrustedKey } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { storeTrustedKey, trustedKeyFields } from './configure-trusted-pgp-public-key.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure/trusted_pgp_public_key` collection path. */
export const configureTrustedPgpPublicKeysPath: PathDescriptor = {
  pattern: 'configure/trusted_pgp_public_key/?',
  synopsis: 'Trusted OpenPGP public keys whose signatures count.',
  description:
    'Write adds or replaces a key by name (the key is checked first: an unusable key is rejected). ' +
    'Read returns the names; list returns them as keys.',
  fields: trustedKeyFields,
  operations: {
    async read(req, ctx) {
      return { data: { names: await settingsOf(req, ctx).trustedKeys.names() } };
    },
    async list(req, ctx) {
      const keys = await settingsOf(req, ctx).trustedKeys.names();
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no trusted keys');
      return { data: { keys } };
    },
    async update(req, ctx) {
      await storeTrustedKey(req, ctx, parseFields(TrustedKey, req.data));
      return undefined;
    },
  },
};
