/**
 * `configure` — the main configuration of a mount: which repository and branch to follow, how
 * often, how many trusted signatures a tip needs, and the pinned image and commands to run. The
 * fields, their rules, defaults and help are the `Configuration` schema's.
 */
import { invalidInput, parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { localRepoRule } from '../config/local-repos.js';
import { Configuration } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure` path. */
export const configurePath: PathDescriptor = {
  pattern: 'configure',
  synopsis: 'Main configuration: repository, branch, poll period, signatures, image and commands.',
  description:
    'Write replaces the whole configuration (absent fields take their defaults). Read returns it. ' +
    'Delete removes the configuration only; state, vault requests, keys and credentials stay.',
  fields: fieldSpecs(Configuration),
  operations: {
    async read(req, ctx) {
      const cfg = await settingsOf(req, ctx).configuration.get();
      if (!cfg) throw new AppError('NOT_FOUND', 'no configuration');
      return { data: { ...cfg } };
    },
    async update(req, ctx) {
      const cfg = parseFields(Configuration, req.data);
      const local = await localRepoRule(cfg.git_repo_url, ctx.services.localRepos);
      if (local !== undefined) throw invalidInput([`git_repo_url: ${local}`]);
      await settingsOf(req, ctx).configuration.put(cfg);
      return undefined;
    },
    async delete(req, ctx) {
      await settingsOf(req, ctx).configuration.delete();
      return undefined;
    },
  },
};
