/**
 * `configure/git_credential` — username and password for HTTP(S) basic auth to the git host.
 * The password is write-only: a read shows the username only.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys, type StoredGitCredential } from '../config/stored.js';
import { parseFields, stringField } from './fields.js';
import type { PathDescriptor } from './types.js';

/** The body of a `configure/git_credential` write. */
export const GitCredential = z.strictObject({
  username: stringField({ nonEmpty: true }),
  password: stringField({ nonEmpty: true }),
});

/** The `configure/git_credential` path. */
export const configureGitCredentialPath: PathDescriptor = {
  pattern: 'configure/git_credential',
  synopsis: 'Username and password for HTTP(S) access to the git repository.',
  description: 'Write replaces the credential; read shows the username only; delete resets it.',
  fields: {
    username: { type: 'string', required: true, description: 'User name for HTTP(S) basic auth.' },
    password: {
      type: 'string',
      required: true,
      sensitive: true,
      description: 'Password or access token (never returned).',
    },
  },
  operations: {
    async read(_req, ctx) {
      const e = await ctx.store.get<StoredGitCredential>(StorageKeys.gitCredential);
      if (!e) throw new AppError('NOT_FOUND', 'no git credential');
      return { data: { username: e.value.username } };
    },
    async update(req, ctx) {
      const cred: StoredGitCredential = parseFields(GitCredential, req.data);
      await ctx.store.put(StorageKeys.gitCredential, cred);
      return undefined;
    },
    async delete(_req, ctx) {
      await ctx.store.delete(StorageKeys.gitCredential);
      return undefined;
    },
  },
};
