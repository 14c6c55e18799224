/**
 * Names and ids that appear in paths, mounts and commits. One place for each pattern and for the
 * message that explains it, so the API, the service config and the help text agree.
 */

import { NAME_MAX_CHARS } from '../limits.js';

/** Names in paths and mounts: Vault's `^\w(([\w.-]+)?\w)?$`. */
export const NAME_PATTERN = /^\w(([\w.-]+)?\w)?$/;

/** The rule text for names (messages and help). */
export const NAME_RULE = 'must match ^\\w(([\\w.-]+)?\\w)?$ (letters, digits, _, and inner . or -)';

/** The length rule for names, checked before the pattern (and before any storage). */
export const NAME_LENGTH_RULE = `must be at most ${NAME_MAX_CHARS} characters`;

/** The rule a path or mount name must meet, as a message (undefined: met). */
export function nameRule(name: string): string | undefined {
  if (name.length > NAME_MAX_CHARS) return NAME_LENGTH_RULE;
  return NAME_PATTERN.test(name) ? undefined : NAME_RULE;
}

/** A full commit id: 40 hex (SHA-1) or 64 hex (SHA-256 repositories), lower case as git prints. */
export const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The rule a commit id must meet, as a message (undefined: met). */
export function commitIdRule(id: string): string | undefined {
  return COMMIT_ID.test(id) ? undefined : 'must be a 40- or 64-hex commit id';
}
