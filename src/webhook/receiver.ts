/**
 * The receiver: one delivery in, one reply out, in a fixed order — method → size cap → endpoint
 * lookup → authentication over the raw bytes → parse → event filter → de-duplication → request an
 * early poll → 202. It does no git, Vault or Docker work itself, and it is transport-free (the
 * fastify route in src/http/webhook-route.ts is a thin layer over it).
 *
 * | status | body                       | when                                                    |
 * |--------|----------------------------|---------------------------------------------------------|
 * | 202    | `{"status":"accepted"}`    | verified push for the endpoint's branch: poll requested |
 * | 202    | `{"status":"ignored"}`     | verified, but another branch/event/Docker repository    |
 * | 202    | `{"status":"duplicate"}`   | verified replay (same delivery id, or same signed body) |
 * | 200    | `{"status":"pong"}`        | GitHub `ping`, Bitbucket `diagnostics:ping`             |
 * | 400    | `{"errors":[…]}`           | verified, but the body is not a payload of that sender  |
 * | 401    | `{"errors":[…]}`           | the signature/token header is missing                   |
 * | 403    | `{"errors":[…]}`           | wrong signature or token, unsupported algorithm, stale  |
 * | 404    | `{"errors":[]}`            | no endpoint has this digest                             |
 * | 405    | `{"errors":[…]}`           | method other than POST                                  |
 * | 413    | `{"errors":[…]}`           | body over the size cap                                  |
 * | 503    | `{"errors":[…]}`           | endpoints could not be loaded / poll not accepted       |
 */
import type { Logger } from '../logging.js';
import type { DeliveryDeduper } from './dedupe.js';
import { normalizeHubRepository } from './docker-hub.js';
import { backendLabel, type Forwarder } from './forward.js';
import { parseDelivery, type ParseResult } from './parse.js';
import { replayKey } from './replay-key.js';
import type {
  EndpointLookup,
  ParsedDelivery,
  PollRequester,
  ResolvedEndpoint,
  VerifyFailure,
  WebhookHeaders,
  WebhookSource,
} from './types.js';
import { verifyDelivery, type VerifyOptions } from './verify.js';

/** Default size cap: 25 MiB (GitHub's payload cap). */
export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;

/** One delivery as the transport hands it over. */
export interface WebhookDelivery {
  readonly method: string;
  readonly digest: string;
  readonly headers: WebhookHeaders;
  readonly body: Buffer;
}

/** The receiver's answer. */
export interface WebhookReply {
  readonly status: number;
  readonly body: { readonly status: string } | { readonly errors: readonly string[] };
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the receiver needs; src/service.ts wires the real ones. */
export interface WebhookReceiverDeps {
  readonly endpoints: EndpointLookup;
  readonly poller: PollRequester;
  readonly deduper: DeliveryDeduper;
  readonly forwarder?: Forwarder;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly maxBodyBytes?: number;
  readonly verify?: VerifyOptions;
}

/** The receiver. */
export interface WebhookReceiver {
  readonly maxBodyBytes: number;
  handle(delivery: WebhookDelivery): Promise<WebhookReply>;
}

type Outcome = 'accepted' | 'ignored' | 'duplicate' | 'pong';

const fail = (
  status: number,
  message?: string,
  headers?: Record<string, string>,
): WebhookReply => ({
  status,
  body: { errors: message === undefined ? [] : [message] },
  ...(headers ? { headers } : {}),
});

function authFailure(failures: readonly VerifyFailure[]): WebhookReply {
  const worst = failures.find((f) => f.kind !== 'missing') ?? failures[0];
  if (!worst || worst.kind === 'missing') return fail(401, worst?.reason ?? 'signature missing');
  return fail(403, worst.kind === 'stale' ? 'stale timestamp' : 'signature mismatch');
}

/** Create the receiver. */
export function createWebhookReceiver(deps: WebhookReceiverDeps): WebhookReceiver {
  const now = deps.now ?? (() => new Date());
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = deps.logger;

  function decide(
    ep: ResolvedEndpoint,
    d: ParsedDelivery,
    at: Date,
    signed: (source: WebhookSource) => string,
  ): Outcome {
    if (d.kind === 'ping') return 'pong';
    if (d.kind !== 'push') return 'ignored';
    // A push of the signature refs (an approver signed) may make the tip deployable: never
    // filtered by branch.
    const otherBranch =
      ep.branch !== undefined && d.branches !== undefined && !d.branches.includes(ep.branch);
    if (otherBranch && d.signatureRefs !== true) return 'ignored';
    if (ep.source === 'dockerhub') {
      const repo = d.repoHint === undefined ? undefined : normalizeHubRepository(d.repoHint);
      if (repo === undefined || repo !== ep.dockerRepository) return 'ignored';
    }
    // A replay is recognised by the delivery id (a sender's own retry) and by what the signature
    // covers (a resend under a fresh, unsigned id); every key is recorded, none short-circuits.
    const scope = `${ep.mount}\u0000${ep.name}\u0000`;
    const keys = [`${scope}signed\u0000${signed(ep.source)}`];
    if (d.deliveryId !== undefined) keys.push(`${scope}${d.deliveryId}`);
    const fresh = keys.map((k) => deps.deduper.firstSeen(k, at));
    if (fresh.includes(false)) return 'duplicate';
    deps.poller.requestPoll(ep.mount, `webhook ${ep.name}: ${d.event}`);
    return 'accepted';
  }

  async function handle(req: WebhookDelivery): Promise<WebhookReply> {
    if (req.method !== 'POST') return fail(405, 'only POST is accepted', { allow: 'POST' });
    if (req.body.length > maxBodyBytes) return fail(413, 'payload too large');
    const digest = req.digest.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(digest)) return fail(404);
    let candidates: readonly ResolvedEndpoint[];
    try {
      candidates = await deps.endpoints.lookup(digest);
    } catch {
      return fail(503, 'webhook endpoints are unavailable');
    }
    if (candidates.length === 0) {
      log.debug({}, 'webhook for an unknown endpoint');
      return fail(404);
    }

    const at = now();
    const verified: ResolvedEndpoint[] = [];
    const failures: VerifyFailure[] = [];
    for (const ep of candidates) {
      const r = verifyDelivery(
        ep.source,
        req.headers,
        req.body,
        ep.secret,
        at,
        deps.verify ?? {},
        ep.hmacKey,
      );
      if (r.ok) verified.push(ep);
      else {
        failures.push(r);
        log.warn({ endpoint: ep.name, mount: ep.mount, failure: r.kind }, 'webhook rejected');
      }
    }
    if (verified.length === 0) return authFailure(failures);

    const replayKeys = new Map<WebhookSource, string>();
    const signed = (source: WebhookSource): string => {
      let k = replayKeys.get(source);
      if (k === undefined) {
        k = replayKey(source, req.headers, req.body);
        replayKeys.set(source, k);
      }
      return k;
    };
    const parsed = new Map<WebhookSource, ParseResult>();
    const outcomes: Outcome[] = [];
    // Forwarded once the replay check has run, so a replayed delivery is not forwarded again.
    const toForward: ResolvedEndpoint[] = [];
    let lastParseError = '';
    try {
      for (const ep of verified) {
        let p = parsed.get(ep.source);
        if (!p) {
          p = parseDelivery(ep.source, req.headers, req.body);
          parsed.set(ep.source, p);
        }
        if (freshForBackends(ep, p.ok ? p.delivery.deliveryId : undefined, at, signed)) {
          toForward.push(ep);
        }
        if (!p.ok) {
          lastParseError = p.reason;
          log.warn(
            { endpoint: ep.name, mount: ep.mount, reason: p.reason },
            'webhook payload invalid',
          );
          continue;
        }
        const outcome = decide(ep, p.delivery, at, signed);
        outcomes.push(outcome);
        log.debug(
          { endpoint: ep.name, mount: ep.mount, event: p.delivery.event, outcome },
          'webhook delivery handled',
        );
      }
    } catch (e) {
      forward(toForward, req);
      log.error({ error: String(e) }, 'webhook poll request failed');
      return fail(503, 'poll request was not accepted');
    }
    forward(toForward, req);
    if (outcomes.length === 0) return fail(400, lastParseError);
    for (const o of ['accepted', 'pong', 'duplicate', 'ignored'] as const) {
      if (outcomes.includes(o)) return { status: o === 'pong' ? 200 : 202, body: { status: o } };
    }
    return { status: 202, body: { status: 'ignored' } };
  }

  function forward(endpoints: readonly ResolvedEndpoint[], req: WebhookDelivery): void {
    if (!deps.forwarder) return;
    const scheduled = new Set<string>();
    for (const ep of endpoints) {
      const backends = ep.backends
        .map((url, i) => ({ url, label: backendLabel(ep.mount, ep.name, i + 1) }))
        .filter((b) => !scheduled.has(b.url));
      backends.forEach((b) => scheduled.add(b.url));
      if (backends.length > 0) {
        deps.forwarder.forward(ep.name, backends, ep.source, req.headers, req.body);
      }
    }
  }

  /**
   * Whether this verified delivery is new to `ep`'s backends: its own replay keys (signed bytes,
   * and the delivery id once parsed), recorded apart from the poll's, since every event kind is
   * forwarded — a replay is never forwarded twice.
   */
  function freshForBackends(
    ep: ResolvedEndpoint,
    deliveryId: string | undefined,
    at: Date,
    signed: (source: WebhookSource) => string,
  ): boolean {
    if (ep.backends.length === 0) return false;
    const scope = `forward\u0000${ep.mount}\u0000${ep.name}\u0000`;
    const keys = [`${scope}signed\u0000${signed(ep.source)}`];
    if (deliveryId !== undefined) keys.push(`${scope}${deliveryId}`);
    return !keys.map((k) => deps.deduper.firstSeen(k, at)).includes(false);
  }

  return { maxBodyBytes, handle };
}
