/**
 * The bounds on everything a pusher or a caller controls, in one place, so the code, the help
 * and README → Security model name the same numbers. Each bound is applied before the work it
 * guards: a note is measured before it is read, a name before it reaches storage, a duration
 * before a timer is armed. What is cut short says how much was left out.
 */

/** A signature note larger than this is not read at all (werf writes ~1 KiB per signature). */
export const NOTE_MAX_BYTES = 64 * 1024;

/** Distinct note lines read per commit (all sources together); later lines are not examined. */
export const NOTE_MAX_LINES = 100;

/** A failure reason as stored in a task, the poll state and shown by `status` and `task`. */
export const REASON_MAX_CHARS = 4096;

/** The detail of one rejected signature inside a reason or the signature report. */
export const REJECTION_DETAIL_MAX_CHARS = 300;

/** Any one string value in a log line (messages are static; fields carry the details). */
export const LOG_VALUE_MAX_CHARS = 4096;

/** Names in paths (vault requests, keys, webhooks) and mount names. */
export const NAME_MAX_CHARS = 128;

/** Nesting depth of a request body (a vault request's `options` included). */
export const BODY_MAX_DEPTH = 32;

/** Longest `git_poll_period`: one year. */
export const POLL_PERIOD_MAX_SECONDS = 365 * 24 * 3600;

/** Longest `task_timeout`: 7 days (Node's timers cannot wait longer than ~24.8 days). */
export const TASK_TIMEOUT_MAX_SECONDS = 7 * 24 * 3600;

/** Longest TTL the service asks Vault for (`wrap_ttl`, `secret_id_ttl`, `token_ttl`): 32 days. */
export const TTL_MAX_SECONDS = 32 * 24 * 3600;

/** Most signatures a commit can be required to carry (each note line is at most one). */
export const REQUIRED_SIGNATURES_MAX = NOTE_MAX_LINES;

/** Most backends a webhook endpoint forwards each verified delivery to. */
export const WEBHOOK_BACKENDS_MAX = 10;

/** Most finished tasks kept per mount, with their logs. */
export const TASK_HISTORY_MAX = 1000;

/**
 * `text` cut to `max` characters, ending with how many were left out; unchanged when it fits.
 * The marker is part of the bound: the result is never longer than `max` plus the marker.
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters left out)`;
}

/** Depth of nested objects and arrays in `v` (a scalar is 0), stopping once it passes `limit`. */
export function nestingDepth(v: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) stack.push([child, d]);
  }
  return deepest;
}
