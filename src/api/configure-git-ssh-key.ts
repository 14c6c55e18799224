/**
 * `configure/git_ssh_key` — an SSH private key and the known_hosts lines for ssh:// and scp-style
 * repositories (the original had no SSH support). The key is write-only.
 */
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { GitSshKey } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure/git_ssh_key` path. */
export const configureGitSshKeyPath: PathDescriptor = {
  pattern: 'configure/git_ssh_key',
  synopsis: 'SSH private key and known_hosts for ssh:// and user@host:path repositories.',
  description:
    'Write replaces both (both required; host keys are always checked). Read shows whether a key is set and the known_hosts; delete removes them.',
  fields: fieldSpecs(GitSshKey),
  operations: {
    async read(req, ctx) {
      const key = await settingsOf(req, ctx).gitSshKey.get();
      if (!key) throw new AppError('NOT_FOUND', 'no git ssh key');
      return { data: { private_key_set: key.private_key !== '', known_hosts: key.known_hosts } };
    },
    async update(req, ctx) {
      await settingsOf(req, ctx).gitSshKey.put(parseFields(GitSshKey, req.data));
      return undefined;
    },
    async delete(req, ctx) {
      await settingsOf(req, ctx).gitSshKey.delete();
      return undefined;
    },
  },
};
