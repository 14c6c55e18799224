/**
 * `configure/trusted_pgp_public_key/<name>` — one trusted OpenPGP public key. Keys are checked
 * on write (the original stored anything, and one bad key broke every signature check); a read
 * describes the key: fingerprint, user ids and expiry. The fields are the `TrustedKey` schema's.
 */
import { assertName, invalidInput, parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { TrustedKey } from '../config/settings-schemas.js';
import { AppError, isAppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathContext, PathDescriptor, PathRequest } from './types.js';

/** Field help shared by the collection and item paths. */
export const trustedKeyFields = fieldSpecs(TrustedKey);

/** Validate the key with the KeyInspector and store it; an unusable key is a 400 naming why. */
export async function storeTrustedKey(
  req: PathRequest,
  ctx: PathContext,
  key: TrustedKey,
): Promise<void> {
  try {
    await ctx.services.keyInspector.inspect(key.public_key);
  } catch (e) {
    if (isAppError(e, 'PGP_INVALID', 'INVALID_INPUT')) {
      throw invalidInput([`public_key: must be one usable OpenPGP public key (${e.reason})`]);
    }
    throw e;
  }
  await settingsOf(req, ctx).trustedKeys.put(key.name, key);
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
      const key = await settingsOf(req, ctx).trustedKeys.get(name);
      if (!key) throw new AppError('NOT_FOUND', 'no such key');
      try {
        const info = await ctx.services.keyInspector.inspect(key.public_key);
        return {
          data: {
            name: key.name,
            public_key: key.public_key,
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
          data: { name: key.name, public_key: key.public_key },
          warnings: [`the stored key is no longer usable: ${err.reason}`],
        };
      }
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: given, ...body } = req.data;
      if (given !== undefined && given !== name) {
        throw invalidInput(['name: must equal the name in the path']);
      }
      await storeTrustedKey(req, ctx, parseFields(TrustedKey, { ...body, name }));
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await settingsOf(req, ctx).trustedKeys.delete(name);
      return undefined;
    },
  },
};
