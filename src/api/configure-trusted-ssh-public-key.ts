/**
 * `configure/trusted_ssh_public_key/<name>` and its collection — trusted SSH public keys, whose
 * SSH signatures (commit `gpgsig` or note line) count toward the quorum beside PGP ones.
 *
 * A path of its own rather than the PGP path detecting the kind: the original plugin's
 * `trusted_pgp_public_key` stays what its name says (scripts that read fingerprints, user ids and
 * expiry from it keep working), each path has one input format with one precise 400, and a read
 * has one shape (SSH keys have a SHA256 fingerprint and a comment, no user ids or expiry).
 * The fields are the `TrustedSshKey` schema's; keys are read and written through the settings
 * owner, which checks the line on write and again when it is read back.
 */
import { assertName, invalidInput, parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { TrustedSshKey } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { parseAuthorizedKey } from '../sshsig/keys.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** Field help shared by the collection and item paths. */
export const trustedSshKeyFields = fieldSpecs(TrustedSshKey);

/** What a read shows about a stored (already checked) key. */
function describe(key: TrustedSshKey): Record<string, unknown> {
  const { key: parsed, comment } = parseAuthorizedKey(key.public_key);
  return {
    name: key.name,
    public_key: key.public_key,
    key_type: parsed.type,
    bits: parsed.bits,
    fingerprint: parsed.fingerprint,
    comment,
  };
}

const NAME = 'name';

/** The `configure/trusted_ssh_public_key/<name>` path. */
export const configureTrustedSshPublicKeyPath: PathDescriptor = {
  pattern: `configure/trusted_ssh_public_key/(?<${NAME}>[^/]+)`,
  synopsis: 'One trusted SSH public key.',
  description:
    'Read returns the key with its type, size, SHA256 fingerprint (as ssh-keygen -l prints it) and ' +
    'comment; write replaces it (checked first); delete removes it.',
  fields: trustedSshKeyFields,
  operations: {
    async read(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const key = await settingsOf(req, ctx).trustedSshKeys.get(name);
      if (!key) throw new AppError('NOT_FOUND', 'no such key');
      return { data: describe(key) };
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const { name: given, ...body } = req.data;
      if (given !== undefined && given !== name) {
        throw invalidInput(['name: must equal the name in the path']);
      }
      await settingsOf(req, ctx).trustedSshKeys.put(
        name,
        parseFields(TrustedSshKey, { ...body, name }),
      );
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await settingsOf(req, ctx).trustedSshKeys.delete(name);
      return undefined;
    },
  },
};

/** The `configure/trusted_ssh_public_key` collection path. */
export const configureTrustedSshPublicKeysPath: PathDescriptor = {
  pattern: 'configure/trusted_ssh_public_key/?',
  synopsis: 'Trusted SSH public keys whose signatures count.',
  description:
    'Write adds or replaces a key by name (checked first: anything but one supported public key ' +
    'line is rejected). Read returns the names; list returns them as keys.',
  fields: trustedSshKeyFields,
  operations: {
    async read(req, ctx) {
      return { data: { names: await settingsOf(req, ctx).trustedSshKeys.names() } };
    },
    async list(req, ctx) {
      const keys = await settingsOf(req, ctx).trustedSshKeys.names();
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no trusted SSH keys');
      return { data: { keys } };
    },
    async update(req, ctx) {
      const key = parseFields(TrustedSshKey, req.data);
      await settingsOf(req, ctx).trustedSshKeys.put(key.name, key);
      return undefined;
    },
  },
};
