/**
 * The git steps of a run: resolve the tip (one ls-remote; stop early when it is the last
 * processed commit; fetch only when the remote's refs differ from the mirror's), then check
 * that the tip descends from the last processed commit.
 */
import type { Configuration } from '../config/settings-schemas.js';
import { AppError } from '../errors.js';
import type { RemoteRefs } from '../git/types.js';
import type { Store } from '../storage/store.js';
import { readLastCommit } from './poll-state.js';
import { progress, type RunInput, type Step } from './run-context.js';

/** True when two ref sets name the same objects (the peeled tag is not compared). */
export function sameRefs(a: RemoteRefs, b: RemoteRefs): boolean {
  return (
    a.branch === b.branch && a.notes === b.notes && a.latestSignatureTag === b.latestSignatureTag
  );
}

/** The commit a tip is compared with: the stored last successful one, else the initial one. */
export async function lastCommitOf(
  store: Store,
  config: Configuration,
): Promise<{ readonly commit: string | undefined; readonly version: number }> {
  const stored = await readLastCommit(store);
  const commit = stored?.value.commit || config.initial_last_successful_commit;
  return { commit: commit || undefined, version: stored?.version ?? 0 };
}

/** The remote's refs: the runtime's probe when it made one, else one ls-remote now. */
async function remoteRefs(
  lsRemote: () => Promise<RemoteRefs>,
  input: RunInput,
): Promise<RemoteRefs> {
  const probe = input.probe;
  if (probe === undefined) return lsRemote();
  if ('error' in probe) throw probe.error;
  return probe.refs;
}

/** Tip of the branch; `last` from the store or the configured initial commit; fetch if needed. */
export const resolveTip: Step = {
  name: 'resolve-tip',
  async run(deps, input, state) {
    const branch = input.config.git_branch_name;
    const refs = await remoteRefs(() => deps.mirror.lsRemote(), input);
    if (refs.branch === undefined) {
      throw new AppError('GIT_NOT_FOUND', `branch ${branch} does not exist on the remote`, {
        details: { branch },
      });
    }
    state.refs = refs;
    state.tip = refs.branch;
    const last = await lastCommitOf(deps.store, input.config);
    state.lastVersion = last.version;
    if (last.commit !== undefined) state.last = last.commit;
    progress(input, `tip of ${branch} is ${refs.branch}`);
    if (refs.branch === state.last) {
      progress(input, 'up to date: the tip is the last successful commit');
      return 'up-to-date';
    }
    // The mirror persists between polls: a retry of the same remote state fetches nothing (the
    // mirror compares with its own refs itself, without a git process).
    await deps.mirror.fetch(refs);
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
