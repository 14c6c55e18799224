/**
 * `configure` — the main configuration of a mount: which repository and branch to follow, how
 * often, how many trusted signatures a tip needs, and the pinned image and commands to run.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { StorageKeys, type StoredConfiguration } from '../config/stored.js';
import { branchNameRule } from '../config/rules/branch-name.js';
import { gitUrlRule } from '../config/rules/git-url.js';
import { imageRefRule } from '../config/rules/image-ref.js';
import { commitIdRule } from '../config/rules/names.js';
import { commaListField, durationField, intField, parseFields, stringField } from './fields.js';
import type { PathDescriptor } from './types.js';

function checkCommands(list: readonly string[]): string | undefined {
  if (list.length === 0) return 'must not be empty';
  if (list.some((c) => c === '')) return 'must not contain an empty command';
  if (list.some((c) => /[\r\n]/.test(c)))
    return 'must not contain newlines (give one command per item)';
  return undefined;
}

/** The body of a `configure` write; absent optional fields take their defaults. */
export const Configuration = z.strictObject({
  // The same rules the git adapter applies when it opens the mirror, so a write that passes
  // here cannot fail there; a password in the URL would be readable back, so it is refused.
  git_repo_url: stringField({ check: gitUrlRule }),
  git_branch_name: stringField({ default: 'main', check: branchNameRule }),
  git_poll_period: durationField({ default: 300 }),
  required_number_of_verified_signatures_on_commit: intField({ default: 0, min: 0 }),
  initial_last_successful_commit: stringField({
    default: '',
    check: (s) =>
      s === '' || commitIdRule(s) === undefined
        ? undefined
        : `must be empty or a 40- or 64-hex commit id`,
  }),
  docker_image: stringField({ check: imageRefRule }),
  commands: commaListField().superRefine((list, ctx) => {
    const rule = checkCommands(list);
    if (rule) ctx.addIssue({ code: 'custom', message: rule });
  }),
});

/** The `configure` path. */
export const configurePath: PathDescriptor = {
  pattern: 'configure',
  synopsis: 'Main configuration: repository, branch, poll period, signatures, image and commands.',
  description:
    'Write replaces the whole configuration (absent fields take their defaults). Read returns it. ' +
    'Delete removes the configuration only; state, vault requests, keys and credentials stay.',
  fields: {
    git_repo_url: {
      type: 'string',
      required: true,
      description:
        'Git repository URL (http(s)://, ssh://, git://, file://, user@host:path, or a local path).',
    },
    git_branch_name: { type: 'string', default: 'main', description: 'Branch to follow.' },
    git_poll_period: {
      type: 'duration',
      default: '5m',
      description: 'How often to poll; 0 = every scheduler tick.',
    },
    required_number_of_verified_signatures_on_commit: {
      type: 'int',
      default: 0,
      description: 'Trusted signatures a tip needs (>= 0; 0 = none).',
    },
    initial_last_successful_commit: {
      type: 'string',
      default: '',
      description: 'Commit to start from when none was processed yet (40- or 64-hex).',
    },
    docker_image: {
      type: 'string',
      required: true,
      description: 'Pinned image: REPO[:TAG]@sha256:<digest> or a local image id sha256:<digest>.',
    },
    commands: {
      type: 'comma-list',
      required: true,
      description:
        'Commands run in order with /bin/sh -c in /git; a JSON list keeps commas inside a command.',
    },
  },
  operations: {
    async read(_req, ctx) {
      const e = await ctx.store.get<StoredConfiguration>(StorageKeys.configuration);
      if (!e) throw new AppError('NOT_FOUND', 'no configuration');
      return { data: { ...e.value } };
    },
    async update(req, ctx) {
      const cfg: StoredConfiguration = parseFields(Configuration, req.data);
      await ctx.store.put(StorageKeys.configuration, cfg);
      return undefined;
    },
    async delete(_req, ctx) {
      await ctx.store.delete(StorageKeys.configuration);
      return undefined;
    },
  },
};
