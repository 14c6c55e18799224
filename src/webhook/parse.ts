/**
 * What a delivery says, read only AFTER it was authenticated. Payload schemas are permissive
 * (zod `looseObject`): senders add fields all the time, and the payload is only a hint — the tip
 * to act on always comes from our own ls-remote.
 */
import { z } from 'zod';
import { firstHeader, headerValue, SOURCE_HEADERS } from './sources.js';
import type { ParsedDelivery, WebhookHeaders, WebhookSource } from './types.js';

/** Parse outcome: the delivery, or why its body is unusable (→ 400). */
export type ParseResult =
  | { readonly ok: true; readonly delivery: ParsedDelivery }
  | { readonly ok: false; readonly reason: string };

const GitPush = z.looseObject({
  ref: z.string().optional(),
  repository: z
    .looseObject({ clone_url: z.string().optional(), git_http_url: z.string().optional() })
    .nullish(),
  project: z.looseObject({ git_http_url: z.string().optional() }).nullish(),
});

const BitbucketPush = z.looseObject({
  push: z
    .looseObject({
      changes: z.array(
        z.looseObject({
          new: z.looseObject({ type: z.string(), name: z.string() }).nullish(),
        }),
      ),
    })
    .optional(),
  changes: z
    .array(
      z.looseObject({
        ref: z.looseObject({ id: z.string(), type: z.string() }).nullish(),
      }),
    )
    .optional(),
  repository: z
    .looseObject({
      links: z.looseObject({ html: z.looseObject({ href: z.string() }).optional() }).optional(),
    })
    .nullish(),
});

const DockerHubPush = z.looseObject({
  repository: z.looseObject({ repo_name: z.string().min(1) }),
  push_data: z.looseObject({ tag: z.string().optional() }).optional(),
});

const StructuredCloudEvent = z.looseObject({
  specversion: z.string(),
  id: z.string().min(1),
  type: z.string().min(1),
});

function decodeBody(
  headers: WebhookHeaders,
  body: Buffer,
): { ok: true; value: unknown } | { ok: false } {
  const type = (headerValue(headers, 'content-type') ?? '').toLowerCase();
  try {
    if (type.startsWith('application/x-www-form-urlencoded')) {
      // GitHub and Gitea may send `payload=<json>` form bodies.
      const payload = new URLSearchParams(body.toString('utf8')).get('payload');
      return payload === null ? { ok: false } : { ok: true, value: JSON.parse(payload) };
    }
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** The refs an approval moves (werf's `git signatures push`, `flant-gitops signatures push`). */
export const SIGNATURE_REFS: readonly string[] = [
  'refs/notes/signatures',
  'refs/tags/latest-signature',
];

const isSignatureRef = (ref: string | undefined): boolean =>
  ref !== undefined && SIGNATURE_REFS.includes(ref);

function branchOf(ref: string | undefined): string[] {
  return ref?.startsWith('refs/heads/') ? [ref.slice('refs/heads/'.length)] : [];
}

function delivery(
  event: string,
  kind: ParsedDelivery['kind'],
  branches: readonly string[] | undefined,
  deliveryId: string | undefined,
  repoHint: string | undefined,
  signatureRefs = false,
): ParseResult {
  return { ok: true, delivery: { event, kind, branches, deliveryId, repoHint, signatureRefs } };
}

const invalid = (what: string): ParseResult => ({ ok: false, reason: `invalid ${what} payload` });

/** The kind of a git host's event, from its headers only (the body is read for pushes only). */
function gitEventKind(source: WebhookSource, event: string): ParsedDelivery['kind'] {
  if ((source === 'github' && event === 'ping') || event === 'diagnostics:ping') return 'ping';
  const pushes: Partial<Record<WebhookSource, readonly string[]>> = {
    github: ['push'],
    gitea: ['push'],
    // A tag push is GitLab's own event; it counts only for the latest-signature tag (below).
    gitlab: ['Push Hook', 'Tag Push Hook', 'System Hook'],
    bitbucket: ['repo:push', 'repo:refs_changed'],
  };
  return pushes[source]?.includes(event) ? 'push' : 'other';
}

function parseGitPush(
  source: 'github' | 'gitea' | 'gitlab',
  event: string,
  deliveryId: string | undefined,
  value: unknown,
): ParseResult {
  const p = GitPush.safeParse(value);
  if (!p.success) return invalid(source);
  // A GitLab system hook is a push only when it says so.
  if (event === 'System Hook' && (value as { object_kind?: unknown }).object_kind !== 'push') {
    return delivery(event, 'other', undefined, deliveryId, undefined);
  }
  const hint =
    p.data.repository?.clone_url ?? p.data.project?.git_http_url ?? p.data.repository?.git_http_url;
  return delivery(
    event,
    'push',
    branchOf(p.data.ref),
    deliveryId,
    hint,
    isSignatureRef(p.data.ref),
  );
}

function parseBitbucket(
  event: string,
  deliveryId: string | undefined,
  value: unknown,
): ParseResult {
  const p = BitbucketPush.safeParse(value);
  if (!p.success) return invalid('bitbucket');
  const branches = [
    ...(p.data.push?.changes ?? []).flatMap((c) => (c.new?.type === 'branch' ? [c.new.name] : [])),
    ...(p.data.changes ?? []).flatMap((c) => (c.ref?.type === 'BRANCH' ? branchOf(c.ref.id) : [])),
  ];
  const signatureRefs =
    (p.data.push?.changes ?? []).some(
      (c) => c.new?.type === 'tag' && isSignatureRef(`refs/tags/${c.new.name}`),
    ) || (p.data.changes ?? []).some((c) => isSignatureRef(c.ref?.id));
  return delivery(
    event,
    'push',
    branches,
    deliveryId,
    p.data.repository?.links?.html?.href,
    signatureRefs,
  );
}

function parseCloudEvent(headers: WebhookHeaders, body: Buffer): ParseResult {
  if (headerValue(headers, 'ce-specversion') !== undefined) {
    const id = headerValue(headers, 'ce-id');
    const type = headerValue(headers, 'ce-type');
    if (id === undefined || type === undefined)
      return invalid('cloudevents (binary mode needs ce-id and ce-type)');
    return delivery(type, 'push', undefined, id, headerValue(headers, 'ce-source'));
  }
  const ct = (headerValue(headers, 'content-type') ?? '').toLowerCase();
  if (!ct.startsWith('application/cloudevents+json'))
    return invalid('cloudevents (neither binary nor structured mode)');
  const decoded = decodeBody(headers, body);
  const p = decoded.ok ? StructuredCloudEvent.safeParse(decoded.value) : undefined;
  if (!p?.success) return invalid('cloudevents');
  const src = (p.data as { source?: unknown }).source;
  return delivery(
    p.data.type,
    'push',
    undefined,
    p.data.id,
    typeof src === 'string' ? src : undefined,
  );
}

/** Read an authenticated delivery. Generic deliveries may carry any body (scripts, CI). */
export function parseDelivery(
  source: WebhookSource,
  headers: WebhookHeaders,
  body: Buffer,
): ParseResult {
  const spec = SOURCE_HEADERS[source];
  const event = firstHeader(headers, spec.event) ?? '';
  const deliveryId = firstHeader(headers, spec.delivery);
  if (source === 'generic') return delivery('generic', 'push', undefined, undefined, undefined);
  if (source === 'cloudevents') return parseCloudEvent(headers, body);
  if (source !== 'dockerhub') {
    const kind = gitEventKind(source, event);
    if (kind !== 'push') return delivery(event, kind, undefined, deliveryId, undefined);
  }
  const decoded = decodeBody(headers, body);
  if (!decoded.ok) return { ok: false, reason: 'body is not JSON' };
  switch (source) {
    case 'github':
    case 'gitea':
    case 'gitlab':
      return parseGitPush(source, event, deliveryId, decoded.value);
    case 'bitbucket':
      return parseBitbucket(event, deliveryId, decoded.value);
    case 'dockerhub': {
      const p = DockerHubPush.safeParse(decoded.value);
      if (!p.success) return invalid('dockerhub');
      return delivery('push', 'push', undefined, undefined, p.data.repository.repo_name);
    }
  }
}
