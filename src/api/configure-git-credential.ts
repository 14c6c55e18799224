/**
 * `configure/git_credential` — username and password for HTTP(S) basic auth to the git host.
 * The password is write-only: a read shows the username only.
 */
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { GitCredential } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure/git_credential` path. */
export const configureGitCredentialPath: PathDescriptor = {
  pattern: 'configure/git_credential',
  synopsis: 'Username and password for HTTP(S) access to the git repository.',
  description: 'Write replaces the credential; read shows the username only; delete resets it.',
  fields: fieldSpecs(GitCredential),
  operations: {
    async read(req, ctx) {
      const cred = await settingsOf(req, ctx).gitCredential.get();
      if (!cred) throw new AppError('NOT_FOUND', 'no git credential');
      return { data: { username: cred.username } };
    },
    async update(req, ctx) {
      await settingsOf(req, ctx).gitCredential.put(parseFields(GitCredential, req.data));
      return undefined;
    },
    async delete(req, ctx) {
      await settingsOf(req, ctx).gitCredential.delete();
      return undefined;
    },
  },
};
