/**
 * `configure/trusted_pgp_public_key/<name>` — one trusted OpenPGP public key. Keys are checked
 * on write (the original stored anything, and one bad key broke every signature check); a read
 * describes the key: fingerprint, user ids and expiry.
 */
import { z } from 'zod';
import { AppError, isAppError } from '../errors.js';
import { StorageKeys, type StoredTrustedKey } from '../config/stored.js';
import { assertName, invalidInput, nameField, parseFields, stringField } from './fields.js';
import type { FieldSpec, PathContext, PathDescriptor } from './types.js';

/** The body of a trusted key write on the collection path (name in the body). */
export const TrustedPgpPublicKey = z.strictObject({
  name: nameField(),
  public_key: stringField({ nonEmpty: true }),
});

/** The body of a trusted key write on the item path (name from the URL). */
const TrustedPgpPublicKeyItem = z.strictObject({
  name: z.unknown().optional(),
  public_key: stringField({ nonEmpty: true }),
});

/** Field help shared by the collection and item paths. */
export const trustedKeyFields: Readonly<Record<string, FieldSpec>> = {
  name: { type: 'name', required: true, description: 'Name of the key.' },
  public_key: {
    type: 'string',
    required: true,
    description: 'ASCII-armored OpenPGP public key (e.g. public_key=@alice.asc).',
  },
};

/** Validate the key with the KeyInspector and store it; an unusable key is a 400 naming why. */
export async function storeTrustedKey(
  ctx: PathContext,
  name: string,
  publicKey: string,
): Promise<void> {
  try {
    await ctx.services.keyInspector.inspect(publicKey);
  } catch (e) {
    if (isAppError(e, 'PGP_INVALID', 'INVALID_INPUT')) {
      throw invalidInput([`public_key: must be one usable OpenPGP public key (${e.reason})`]);
    }
    throw e;
  }
  const stored: StoredTrustedKey = { name, public_key: publicKey };
  await ctx.store.put(StorageKeys.trustedKey(name), stored);
}

const NAME = 'name';

/** The `configure/trusted_pgp_public_key/<name>` path. */
export const configureTrustedPgpPublicKeyPath: PathDescriptor = {
  pattern: `configure/trusted_pgp_public_key/(?<${NAME}>[^/]+)`,
  synopsis: 'One trusted OpenPGP public key.',
  description:
    'Read returns the key with its fingerprint, user ids and expiry; write replaces it (checked first); delete removes it.',
  fields: trustedKeyFields,
  operations: {
    async read(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const e = await ctx.store.get<StoredTrustedKey>(StorageKeys.trustedKey(name));
      if (!e) throw new AppError('NOT_FOUND', 'no such key');
      try {
        const info = await ctx.services.keyInspector.inspect(e.value.public_key);
        return {
          data: {
            name: e.value.name,
            public_key: e.value.public_key,
            fingerprint: info.primaryFingerprint,
            subkey_fingerprints: [...info.subkeyFingerprints],
            user_ids: [...info.userIds],
            algorithm: info.algorithm,
            created: info.created,
            expires: info.expires,
            revoked: info.revoked,
          },
        };
      } catch (err) {
        if (!isAppError(err, 'PGP_INVALID')) throw err;
        return {
          data: { name: e.value.name, public_key: e.value.public_key },
          warnings: [`the stored key is no longer usable: ${err.reason}`],
        };
      }
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const body = parseFields(TrustedPgpPublicKeyItem, req.data);
      if (body.name !== undefined && body.name !== name) {
        throw invalidInput(['name: must equal the name in the path']);
      }
      await storeTrustedKey(ctx, name, body.public_key);
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await ctx.store.delete(StorageKeys.trustedKey(name));
      return undefined;
    },
  },
};
