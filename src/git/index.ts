/**
 * Public surface of the git adapter: the composition root builds a SimpleGitMirrorFactory; the API
 * validates URLs with isValidGitUrl; the pipeline compares snapshots with sameRefs.
 */
export { SimpleGitMirrorFactory, DEFAULT_GIT_TIMEOUT_MS, type GitMirrorOptions } from './mirror.js';
export { isValidGitUrl, isValidBranchName, parseGitUrl, redactUrlCredentials } from './url.js';
export { sameRefs } from './refs.js';
export type * from './types.js';
