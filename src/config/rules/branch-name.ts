/**
 * The branch-name rule, pure, shared by the API (`git_branch_name`) and the git adapter (which
 * puts the name into a refspec unquoted, so both must agree on what is safe).
 */

/**
 * True when `name` is a branch name git accepts under refs/heads/ (the rules of
 * `git check-ref-format --branch`, minus `@{-N}`), so it can go into a refspec unquoted.
 */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/')) return false;
  if (name.endsWith('.') || name.endsWith('.lock') || name === '@') return false;
  if (/[\s\u0000-\u001f\u007f~^:?*[\\]/.test(name)) return false; // eslint-disable-line no-control-regex
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.'));
}

/** The rule `git_branch_name` must meet, as a message (undefined: met). */
export function branchNameRule(name: string): string | undefined {
  return isValidBranchName(name) ? undefined : 'must be a valid branch name';
}
