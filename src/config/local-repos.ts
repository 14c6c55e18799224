/**
 * Which local repositories a mount may follow. A local path or `file://` URL makes the service
 * read whatever the service user can read — another mount's mirror, or any repository on the
 * host — so a caller allowed only `<mount>/configure` could read far more than its mount. Only
 * directories the operator approved at start (`--local-repo-root DIR`, repeatable, or
 * FLANT_GITOPS_LOCAL_REPO_ROOTS) are allowed, and never anything inside the data directory.
 *
 * The check resolves symbolic links of the longest existing prefix of the path, so a link inside
 * an approved root that points elsewhere is judged by where it points.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseGitUrl } from './rules/git-url.js';

/** The flag and variable an operator sets, named in every refusal. */
export const LOCAL_REPO_ROOT_FLAG = '--local-repo-root / FLANT_GITOPS_LOCAL_REPO_ROOTS';

/** Decides whether a `git_repo_url` that names a local repository may be used. */
export interface LocalRepoPolicy {
  /** The approved roots, as given (absolute). */
  readonly roots: readonly string[];
  /** The rule `url` breaks, as a message; undefined when it is not local or lies in a root. */
  check(url: string): Promise<string | undefined>;
}

/** True when `child` is `parent` or below it (both absolute and normalised). */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The real path of the longest existing prefix of `p`, with the rest appended unchanged.
 * Synchronous: one realpath(3) call of a local path costs the event loop a few µs, the async
 * form several times that plus a thread-pool hand-off — and it runs at every poll of every mount.
 */
function realish(p: string): string {
  const rest: string[] = [];
  let at = resolve(p);
  for (;;) {
    try {
      return join(realpathSync.native(at), ...rest.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return resolve(p);
      rest.push(at.slice(up.length).replace(/^\/+/, ''));
      at = up;
    }
  }
}

/** Split a comma-separated root list (the environment variable's form). */
export function splitRoots(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The policy for `roots` (absolute paths) and the data directory. `flag` names the setting in
 * messages (the plugin reads the same roots from its own arguments).
 */
export function createLocalRepoPolicy(opts: {
  readonly roots: readonly string[];
  readonly dataDir: string;
  readonly flag?: string;
}): LocalRepoPolicy {
  const flag = opts.flag ?? LOCAL_REPO_ROOT_FLAG;
  const roots = opts.roots.map((r) => resolve(r));
  // The operator's own directories are resolved once, at the first check (after start-up made
  // the data dir); the repository path, which a mount's writer controls, at every check.
  let fixed: { dataDir: string; roots: string[] } | undefined;
  const resolvedFixed = () =>
    (fixed ??= { dataDir: realish(opts.dataDir), roots: roots.map(realish) });
  return {
    roots,
    async check(url) {
      const parsed = parseGitUrl(url);
      if (parsed === undefined || (parsed.kind !== 'local' && parsed.kind !== 'file')) {
        return undefined;
      }
      if (roots.length === 0) {
        return `must not be a local path or file:// URL: no local repository root is approved (${flag})`;
      }
      const path = realish(parsed.path);
      const real = resolvedFixed();
      if (isWithin(real.dataDir, path) || isWithin(resolve(opts.dataDir), path)) {
        return 'must not be inside the service data directory';
      }
      if (real.roots.some((root) => isWithin(root, path))) return undefined;
      return `must be inside an approved local repository root (${flag}): ${roots.join(', ')}`;
    },
  };
}

/** The rule `url` breaks under `policy`; without a policy no local repository is approved. */
export async function localRepoRule(
  url: string,
  policy: LocalRepoPolicy | undefined,
): Promise<string | undefined> {
  return (policy ?? NO_LOCAL_REPOS).check(url);
}

const NO_LOCAL_REPOS = createLocalRepoPolicy({ roots: [], dataDir: '/' });
