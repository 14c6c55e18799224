/**
 * The git steps of a run: resolve the tip (one ls-remote; stop early when it is the last
 * processed commit; fetch only when the remote's refs differ from the mirror's), then check
 * that the tip descends from the last processed commit.
 */
import { StorageKeys, type StoredLastCommit } from '../config/stored.js';
import { AppError } from '../errors.js';
import type { RemoteRefs } from '../git/types.js';
import { progress, type Step } from './run-context.js';

/** True when two ref sets name the same objects (the peeled tag is not compared). */
export function sameRefs(a: RemoteRefs, b: RemoteRefs): boolean {
  return (
    a.branch === b.branch && a.notes === b.notes && a.latestSignatureTag === b.latestSignatureTag
  );
}

/** Tip of the branch; `last` from the store or the configured initial commit; fetch if needed. */
export const resolveTip: Step = {
  name: 'resolve-tip',
  async run(deps, input, state) {
    const branch = input.config.git_branch_name;
    const refs = await deps.mirror.lsRemote();
    if (refs.branch === undefined) {
      throw new AppError('GIT_NOT_FOUND', `branch ${branch} does not exist on the remote`, {
        details: { branch },
      });
    }
    state.refs = refs;
    state.tip = refs.branch;
    const stored = await deps.store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit);
    state.lastVersion = stored?.version ?? 0;
    const last = stored?.value.commit || input.config.initial_last_successful_commit;
    if (last) state.last = last;
    progress(input, `tip of ${branch} is ${refs.branch}`);
    if (refs.branch === state.last) {
      progress(input, 'up to date: the tip is the last successful commit');
      return 'up-to-date';
    }
    // The mirror persists between polls: a retry of the same remote state fetches nothing.
    if (!sameRefs(await deps.mirror.localRefs(), refs)) await deps.mirror.fetch(refs);
    return 'continue';
  },
};

/** A rewritten history (tip not descending from `last`) is never run. */
export const checkAncestry: Step = {
  name: 'check-ancestry',
  async run(deps, input, state) {
    const { tip, last } = state;
    if (tip === undefined)
      throw new AppError('INTERNAL', 'ancestry checked before the tip is known');
    if (last === undefined) return 'continue';
    if (!(await deps.mirror.isAncestor(last, tip))) {
      throw new AppError(
        'NOT_A_DESCENDANT',
        `commit ${tip} is not a descendant of the last successful commit ${last}`,
        { details: { tip, last } },
      );
    }
    progress(input, `${tip} descends from ${last}`);
    return 'continue';
  },
};
