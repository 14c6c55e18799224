/**
 * `configure/trusted_pgp_public_key` — the collection of trusted keys: write a key with its name
 * in the body (as the original did: `name=alice public_key=@alice.asc`), read or list the names.
 */
import { AppError } from '../errors.js';
import { StorageKeys } from '../config/stored.js';
import { parseFields } from './fields.js';
import {
  TrustedPgpPublicKey,
  storeTrustedKey,
  trustedKeyFields,
} from './configure-trusted-pgp-public-key.js';
import type { PathContext, PathDescriptor } from './types.js';

async function names(ctx: PathContext): Promise<string[]> {
  return (await ctx.store.list(StorageKeys.trustedKeyPrefix)).filter((n) => !n.endsWith('/'));
}

/** The `configure/trusted_pgp_public_key` collection path. */
export const configureTrustedPgpPublicKeysPath: PathDescriptor = {
  pattern: 'configure/trusted_pgp_public_key/?',
  synopsis: 'Trusted OpenPGP public keys whose signatures count.',
  description:
    'Write adds or replaces a key by name (the key is checked first: an unusable key is rejected). ' +
    'Read returns the names; list returns them as keys.',
  fields: trustedKeyFields,
  operations: {
    async read(_req, ctx) {
      return { data: { names: await names(ctx) } };
    },
    async list(_req, ctx) {
      const keys = await names(ctx);
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no trusted keys');
      return { data: { keys } };
    },
    async update(req, ctx) {
      const body = parseFields(TrustedPgpPublicKey, req.data);
      await storeTrustedKey(ctx, body.name, body.public_key);
      return undefined;
    },
  },
};
