/**
 * `last_successful_commit` — read the commit the next tip must descend from; set it (after a
 * force push, the original had no way out) or clear it (the initial commit applies again).
 * Writes are operator actions and are logged as such.
 */
import { z } from 'zod';
import { commitIdRule } from '../config/rules/names.js';
import { AppError } from '../errors.js';
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs, stringField } from '../config/fields.js';
import { clearLastCommit, readLastCommit, writeLastCommit } from '../pipeline/poll-state.js';
import type { PathDescriptor } from './types.js';

/** The body of a write: a full 40- or 64-hex commit id. */
export const LastSuccessfulCommitInput = z.strictObject({
  commit: stringField({
    check: commitIdRule,
    description: 'Full commit id (40 or 64 lower-case hex).',
  }),
});

/** The `last_successful_commit` path. */
export const lastSuccessfulCommitPath: PathDescriptor = {
  pattern: 'last_successful_commit',
  synopsis: 'The last commit processed successfully.',
  description:
    'Read returns the commit and when it was recorded. Write with commit=<id> sets it (e.g. after ' +
    'a force push, to accept the new history); delete clears it, so initial_last_successful_commit ' +
    'applies again.',
  fields: fieldSpecs(LastSuccessfulCommitInput),
  operations: {
    async read(_req, ctx) {
      const e = await readLastCommit(ctx.store);
      if (!e) throw new AppError('NOT_FOUND', 'no last successful commit');
      return { data: { commit: e.value.commit, at: e.value.at } };
    },
    async update(req, ctx) {
      const { commit } = parseFields(LastSuccessfulCommitInput, req.data);
      await writeLastCommit(ctx.store, commit, ctx.now());
      ctx.logger.warn(
        { mount: req.mount, commit, operator_action: true },
        'last successful commit set',
      );
      return undefined;
    },
    async delete(req, ctx) {
      await clearLastCommit(ctx.store);
      ctx.logger.warn(
        { mount: req.mount, operator_action: true },
        'last successful commit cleared',
      );
      return undefined;
    },
  },
};
