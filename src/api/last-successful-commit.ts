/**
 * `last_successful_commit` — read the commit the next tip must descend from; set it (after a
 * force push, the original had no way out) or clear it (the initial commit applies again).
 * Writes are operator actions and are logged as such.
 */
import { z } from 'zod';
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import { commitIdRule } from '../config/rules/names.js';
import { AppError } from '../errors.js';
import { parseFields, stringField } from './fields.js';
import type { PathDescriptor } from './types.js';

/** The body of a write: a full 40- or 64-hex commit id. */
export const LastSuccessfulCommitInput = z.strictObject({
  commit: stringField({ check: commitIdRule }),
});

/** The `last_successful_commit` path. */
export const lastSuccessfulCommitPath: PathDescriptor = {
  pattern: 'last_successful_commit',
  synopsis: 'The last commit processed successfully.',
  description:
    'Read returns the commit and when it was recorded. Write with commit=<id> sets it (e.g. after ' +
    'a force push, to accept the new history); delete clears it, so initial_last_successful_commit ' +
    'applies again.',
  fields: {
    commit: {
      type: 'string',
      required: true,
      description: 'Full commit id (40 or 64 lower-case hex).',
    },
  },
  operations: {
    async read(_req, ctx) {
      const e = await ctx.store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit);
      if (!e) throw new AppError('NOT_FOUND', 'no last successful commit');
      return { data: { commit: e.value.commit, at: e.value.at } };
    },
    async update(req, ctx) {
      const { commit } = parseFields(LastSuccessfulCommitInput, req.data);
      const value: StoredLastCommit = { commit, at: ctx.now().toISOString() };
      await ctx.store.put(StorageKeys.lastSuccessfulCommit, value);
      ctx.logger.warn(
        { mount: req.mount, commit, operator_action: true },
        'last successful commit set',
      );
      return undefined;
    },
    async delete(req, ctx) {
      await ctx.store.delete(StorageKeys.lastSuccessfulCommit);
      ctx.logger.warn(
        { mount: req.mount, operator_action: true },
        'last successful commit cleared',
      );
      return undefined;
    },
  },
};
