/**
 * The git steps of a run: probe the remote (one ls-remote, made before any task exists; the poll
 * ends here when the tip is the last processed commit), fetch only when the remote's refs differ
 * from the mirror's, then check that the tip descends from the last processed commit.
 */
import type { Configuration } from '../config/settings-schemas.js';
import { AppError, isAppError } from '../errors.js';
import type { RemoteRefs } from '../git/types.js';
import type { Store } from '../storage/store.js';
import { readLastCommit } from './poll-state.js';
import { progress, type Step } from './run-context.js';

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
): Promise<{
  readonly commit: string | undefined;
  readonly version: number;
  /** The stored commit alone ('' when none is stored). */
  readonly stored: string;
}> {
  const stored = await readLastCommit(store);
  const commit = stored?.value.commit || config.initial_last_successful_commit;
  return {
    commit: commit || undefined,
    version: stored?.version ?? 0,
    stored: stored?.value.commit ?? '',
  };
}

/**
 * "Is the remote up to date?", decided once, before any task exists: the tip of the branch, and
 * `last` from the store or the configured initial commit. An up-to-date tip (most polls) ends the
 * poll without a task; the task history keeps the polls that did something.
 */
export const probeRemote: Step = {
  name: 'probe-remote',
  beforeTask: true,
  async run(deps, input, state) {
    const branch = input.config.git_branch_name;
    // The last commit is read while git runs (it does not depend on the answer); a git failure
    // is still the one reported when both fail.
    const reading = lastCommitOf(deps.store, input.config);
    reading.catch(() => undefined);
    const refs = await deps.mirror.lsRemote();
    if (refs.branch === undefined) {
      throw new AppError('GIT_NOT_FOUND', `branch ${branch} does not exist on the remote`, {
        details: { branch },
      });
    }
    state.refs = refs;
    state.tip = refs.branch;
    const last = await reading;
    state.lastVersion = last.version;
    state.lastStored = last.stored;
    if (last.commit !== undefined) state.last = last.commit;
    progress(input, `tip of ${branch} is ${refs.branch}`);
    return refs.branch === state.last ? 'up-to-date' : 'continue';
  },
};

/**
 * Fetch what the probe saw. The mirror persists between polls: a retry of the same remote state
 * fetches nothing (the mirror compares with its own refs itself, without a git process).
 */
export const fetchTip: Step = {
  name: 'fetch',
  async run(deps, _input, state) {
    if (state.refs === undefined) throw new AppError('INTERNAL', 'fetch before the probe');
    await deps.mirror.fetch(state.refs);
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
    let descends: boolean;
    try {
      descends = await deps.mirror.isAncestor(last, tip);
    } catch (e) {
      if (isAppError(e, 'GIT_UNKNOWN_COMMIT') && e.details?.['commit'] === last) {
        throw new AppError(
          'GIT_UNKNOWN_COMMIT',
          `the last successful commit ${last} is not in the repository ` +
            `(was git_repo_url changed?): write the commit to continue from to ` +
            `last_successful_commit, or delete it to start from initial_last_successful_commit`,
          { details: { last, tip }, cause: e },
        );
      }
      throw e;
    }
    if (!descends) {
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
