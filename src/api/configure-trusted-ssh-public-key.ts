/**
 * `configure/trusted_ssh_public_key/<name>` and its collection — trusted SSH public keys, whose
 * SSH signatures (commit `gpgsig` or note line) count toward the quorum beside PGP ones.
 *
 * A path of its own rather than the PGP path detecting the kind: the original plugin's
 * `trusted_pgp_public_key` stays what its name says (scripts that read fingerprints, user ids and
 * expiry from it keep working), each path has one input format with one precise 400, and a read
 * has one shape (SSH keys have a SHA256 fingerprint and a comment, no user ids or expiry).
 * Stored under the mount scope like the PGP keys: `trusted_ssh_public_key/<name>`.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys, type StoredTrustedSshKey } from '../config/stored.js';
import { SshKeyError, parseAuthorizedKey, type AuthorizedKey } from '../sshsig/keys.js';
import { assertName, invalidInput, nameField, parseFields, stringField } from './fields.js';
import type { FieldSpec, PathContext, PathDescriptor } from './types.js';

const LINE_RULE =
  'must be one SSH public key line (`ssh-ed25519 AAAA… comment`, as in a .pub file)';

/** The key line, validated: type, base64 blob, type/length rules; the 400 names the problem. */
const publicKeyField = stringField({
  nonEmpty: true,
  check: (s) => {
    try {
      parseAuthorizedKey(s);
      return undefined;
    } catch (e) {
      if (e instanceof SshKeyError) return `${LINE_RULE}: ${e.message}`;
      throw e;
    }
  },
});

/** The body of a write on the collection path (name in the body). */
export const TrustedSshPublicKey = z.strictObject({
  name: nameField(),
  public_key: publicKeyField,
});

/** The body of a write on the item path (name from the URL). */
const TrustedSshPublicKeyItem = z.strictObject({
  name: z.unknown().optional(),
  public_key: publicKeyField,
});

/** Field help shared by the collection and item paths. */
export const trustedSshKeyFields: Readonly<Record<string, FieldSpec>> = {
  name: { type: 'name', required: true, description: 'Name of the key.' },
  public_key: {
    type: 'string',
    required: true,
    description:
      'One SSH public key line: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (≥ 2048 bits) or ' +
      'sk-ssh-ed25519@openssh.com / sk-ecdsa-sha2-nistp256@openssh.com (e.g. public_key=@bob.pub).',
  },
};

/** What a read shows about a stored key. */
function describe(name: string, parsed: AuthorizedKey): Record<string, unknown> {
  const { key, comment } = parsed;
  return {
    name,
    public_key: `${key.type} ${key.blob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`,
    key_type: key.type,
    bits: key.bits,
    fingerprint: key.fingerprint,
    comment,
  };
}

async function store(ctx: PathContext, name: string, line: string): Promise<void> {
  const parsed = parseAuthorizedKey(line);
  const canonical = describe(name, parsed).public_key as string;
  const stored: StoredTrustedSshKey = { name, public_key: canonical };
  await ctx.store.put(StorageKeys.trustedSshKey(name), stored);
}

async function names(ctx: PathContext): Promise<string[]> {
  return (await ctx.store.list(StorageKeys.trustedSshKeyPrefix)).filter((n) => !n.endsWith('/'));
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
      const e = await ctx.store.get<StoredTrustedSshKey>(StorageKeys.trustedSshKey(name));
      if (!e) throw new AppError('NOT_FOUND', 'no such key');
      try {
        return { data: describe(e.value.name, parseAuthorizedKey(e.value.public_key)) };
      } catch (err) {
        if (!(err instanceof SshKeyError)) throw err;
        return {
          data: { name: e.value.name, public_key: e.value.public_key },
          warnings: [`the stored key is no longer usable: ${err.message}`],
        };
      }
    },
    async update(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      const body = parseFields(TrustedSshPublicKeyItem, req.data);
      if (body.name !== undefined && body.name !== name) {
        throw invalidInput(['name: must equal the name in the path']);
      }
      await store(ctx, name, body.public_key);
      return undefined;
    },
    async delete(req, ctx) {
      const name = req.captures[NAME] ?? '';
      assertName(NAME, name);
      await ctx.store.delete(StorageKeys.trustedSshKey(name));
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
    async read(_req, ctx) {
      return { data: { names: await names(ctx) } };
    },
    async list(_req, ctx) {
      const keys = await names(ctx);
      if (keys.length === 0) throw new AppError('NOT_FOUND', 'no trusted SSH keys');
      return { data: { keys } };
    },
    async update(req, ctx) {
      const body = parseFields(TrustedSshPublicKey, req.data);
      await store(ctx, body.name, body.public_key);
      return undefined;
    },
  },
};
