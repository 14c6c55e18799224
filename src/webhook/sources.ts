/**
 * Per-sender facts in one table: which headers carry the event, the delivery id and the
 * signature, and which headers a forwarded copy keeps. verify.ts, parse.ts and forward.ts read
 * them from here, so adding a sender is one row, not three edits.
 */
import type { WebhookHeaders, WebhookSource } from './types.js';

/** Header facts of one sender (all names lower-case). */
export interface SourceHeaders {
  /** Event name headers, first present wins. */
  readonly event: readonly string[];
  /** Delivery id headers (de-duplication key), first present wins. */
  readonly delivery: readonly string[];
  /** Headers forwarded to backends besides content-type and user-agent. */
  readonly forward: readonly string[];
  /** Header name prefixes forwarded as a whole (CloudEvents `ce-*`). */
  readonly forwardPrefixes: readonly string[];
}

/** The table. */
export const SOURCE_HEADERS: Readonly<Record<WebhookSource, SourceHeaders>> = {
  github: {
    event: ['x-github-event'],
    delivery: ['x-github-delivery'],
    forward: [
      'x-hub-signature-256',
      'x-github-event',
      'x-github-delivery',
      'x-github-hook-id',
      'x-github-hook-installation-target-id',
      'x-github-hook-installation-target-type',
    ],
    forwardPrefixes: [],
  },
  gitea: {
    event: ['x-gitea-event', 'x-forgejo-event', 'x-gogs-event'],
    delivery: ['x-gitea-delivery', 'x-forgejo-delivery', 'x-gogs-delivery'],
    forward: [
      'x-gitea-signature',
      'x-forgejo-signature',
      'x-gogs-signature',
      'x-gitea-event',
      'x-gitea-event-type',
      'x-gitea-delivery',
      'x-forgejo-event',
      'x-forgejo-event-type',
      'x-forgejo-delivery',
      'x-gogs-event',
      'x-gogs-event-type',
      'x-gogs-delivery',
    ],
    forwardPrefixes: [],
  },
  gitlab: {
    event: ['x-gitlab-event'],
    delivery: ['idempotency-key', 'x-gitlab-event-uuid', 'webhook-id'],
    forward: [
      'x-gitlab-token',
      'x-gitlab-event',
      'x-gitlab-event-uuid',
      'x-gitlab-instance',
      'x-gitlab-webhook-uuid',
      'idempotency-key',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ],
    forwardPrefixes: [],
  },
  bitbucket: {
    event: ['x-event-key'],
    delivery: ['x-request-uuid', 'x-request-id'],
    forward: [
      'x-hub-signature',
      'x-event-key',
      'x-request-uuid',
      'x-request-id',
      'x-hook-uuid',
      'x-attempt-number',
    ],
    forwardPrefixes: [],
  },
  generic: { event: [], delivery: [], forward: ['x-signature'], forwardPrefixes: [] },
  cloudevents: {
    event: ['ce-type'],
    delivery: ['ce-id'],
    forward: ['x-signature'],
    forwardPrefixes: ['ce-'],
  },
  dockerhub: { event: [], delivery: [], forward: [], forwardPrefixes: [] },
};

/** The first value of header `name` (lower-case), or undefined when absent or empty. */
export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? (v as readonly string[])[0] : (v as string | undefined);
  return s === undefined || s === '' ? undefined : s;
}

/** The first of `names` that is present. */
export function firstHeader(headers: WebhookHeaders, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = headerValue(headers, n);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Headers a forwarded copy of a delivery from `source` carries. */
export function forwardedHeaders(
  source: WebhookSource,
  headers: WebhookHeaders,
): Record<string, string> {
  const spec = SOURCE_HEADERS[source];
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const keep =
      name === 'content-type' ||
      name === 'user-agent' ||
      spec.forward.includes(name) ||
      spec.forwardPrefixes.some((p) => name.startsWith(p));
    const v = headerValue(headers, name);
    if (keep && v !== undefined && raw !== undefined) out[name] = v;
  }
  return out;
}
