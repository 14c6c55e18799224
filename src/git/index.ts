/**
 * Public surface of the git adapter: the composition root builds a HostedGitMirrorFactory (every
 * git call in the git host child process: the service) or a SimpleGitMirrorFactory (git in this
 * process: the plugin); the pipeline compares snapshots with sameRefs. The URL and branch rules
 * live in src/config/rules/ so that the API need not import this adapter.
 */
export { SimpleGitMirrorFactory, DEFAULT_GIT_TIMEOUT_MS, type GitMirrorOptions } from './mirror.js';
export { HostedGitMirrorFactory, type GitHostOptions, type HostedSlots } from './host/client.js';
export { createGitSlots, DEFAULT_GIT_CONCURRENCY, type GitSlots } from './concurrency.js';
export { redactUrlCredentials } from './redact.js';
export { sameRefs } from './refs.js';
export type * from './types.js';
