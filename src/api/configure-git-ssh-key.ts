/**
 * `configure/git_ssh_key` — an SSH private key and the known_hosts lines for ssh:// and scp-style
 * repositories (the original had no SSH support). The key is write-only.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys, type StoredGitSshKey } from '../config/stored.js';
import { parseFields, stringField } from './fields.js';
import type { PathDescriptor } from './types.js';

/** The body of a `configure/git_ssh_key` write. */
export const GitSshKey = z.strictObject({
  private_key: stringField({
    check: (s) =>
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(s)
        ? undefined
        : 'must be a PEM/OpenSSH private key (-----BEGIN … PRIVATE KEY-----)',
  }),
  known_hosts: stringField({ nonEmpty: true }),
});

/** The `configure/git_ssh_key` path. */
export const configureGitSshKeyPath: PathDescriptor = {
  pattern: 'configure/git_ssh_key',
  synopsis: 'SSH private key and known_hosts for ssh:// and user@host:path repositories.',
  description:
    'Write replaces both (both required; host keys are always checked). Read shows whether a key is set and the known_hosts; delete removes them.',
  fields: {
    private_key: {
      type: 'string',
      required: true,
      sensitive: true,
      description: 'Private key without passphrase (e.g. private_key=@id_ed25519); never returned.',
    },
    known_hosts: {
      type: 'string',
      required: true,
      description: 'known_hosts lines for the git host (e.g. known_hosts=@known_hosts).',
    },
  },
  operations: {
    async read(_req, ctx) {
      const e = await ctx.store.get<StoredGitSshKey>(StorageKeys.gitSshKey);
      if (!e) throw new AppError('NOT_FOUND', 'no git ssh key');
      return {
        data: { private_key_set: e.value.private_key !== '', known_hosts: e.value.known_hosts },
      };
    },
    async update(req, ctx) {
      const key: StoredGitSshKey = parseFields(GitSshKey, req.data);
      await ctx.store.put(StorageKeys.gitSshKey, key);
      return undefined;
    },
    async delete(_req, ctx) {
      await ctx.store.delete(StorageKeys.gitSshKey);
      return undefined;
    },
  },
};
