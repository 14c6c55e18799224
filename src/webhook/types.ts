/**
 * The webhook receiver's own types. The receiver only verifies a delivery and *requests* an early
 * poll; everything that does real work (ls-remote, signatures, Vault, Docker) sits behind
 * `PollRequester`, implemented by the scheduler (which also coalesces requests).
 */
import type { KeyObject } from 'node:crypto';

/** The senders we understand (README, "Webhooks"). */
export const WEBHOOK_SOURCES = [
  'github',
  'gitea',
  'gitlab',
  'bitbucket',
  'generic',
  'cloudevents',
  'dockerhub',
] as const;

/** One of `WEBHOOK_SOURCES`. */
export type WebhookSource = (typeof WEBHOOK_SOURCES)[number];

/** Asks the scheduler for an early poll of a mount; coalescing is the scheduler's job. */
export interface PollRequester {
  requestPoll(mount: string, reason: string): void;
}

/**
 * An endpoint as configured (through the API or a flux-recv file), before the mount's own
 * configuration fills in the defaults.
 */
export interface WebhookEndpointSpec {
  readonly name: string;
  readonly mount: string;
  readonly source: WebhookSource;
  /** The shared secret's exact bytes; never empty. */
  readonly secret: Buffer;
  /** Branch filter; undefined = the mount's `git_branch_name`. */
  readonly branch: string | undefined;
  readonly backends: readonly string[];
}

/**
 * An endpoint ready for deliveries: its secret as raw bytes (the digest in the URL is the
 * SHA-256 of exactly these bytes, as `sha256sum secret.key` prints it) and the effective filters.
 */
export interface ResolvedEndpoint {
  /** Name for logs (never the digest or the secret). */
  readonly name: string;
  readonly mount: string;
  readonly source: WebhookSource;
  readonly secret: Buffer;
  /**
   * `webhookHmacKey(secret)`, made once when the endpoint is resolved rather than per delivery
   * (absent: verification makes one per delivery).
   */
  readonly hmacKey?: KeyObject;
  /** Pushes to other branches are ignored; undefined = the mount is not configured yet. */
  readonly branch: string | undefined;
  /** Docker Hub only: the repository of the mount's `docker_image` (e.g. `library/nginx`). */
  readonly dockerRepository: string | undefined;
  /** http(s) URLs the verified delivery is forwarded to. */
  readonly backends: readonly string[];
}

/** Finds the endpoints whose secret has this hex SHA-256 digest (empty when none). */
export interface EndpointLookup {
  lookup(digest: string): Promise<readonly ResolvedEndpoint[]>;
}

/** Header names lower-cased; repeated headers joined or as arrays, as Node delivers them. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a delivery failed authentication; each kind maps to one HTTP status. */
export type VerifyFailure =
  | { readonly kind: 'missing'; readonly reason: string }
  | { readonly kind: 'mismatch'; readonly reason: string }
  | { readonly kind: 'stale'; readonly reason: string };

/** Outcome of verification: ok, or a typed failure. */
export type VerifyResult = { readonly ok: true } | ({ readonly ok: false } & VerifyFailure);

/** What a verified delivery says; only a hint (the tip always comes from our own ls-remote). */
export interface ParsedDelivery {
  /** The sender's event name, e.g. `push`, `Push Hook`, `repo:push`, a CloudEvents type. */
  readonly event: string;
  /** What the receiver should do with it. */
  readonly kind: 'push' | 'ping' | 'other';
  /** Branches the push touched; undefined = unknown (do not filter by branch). */
  readonly branches: readonly string[] | undefined;
  /** The sender's delivery id, the de-duplication key. */
  readonly deliveryId: string | undefined;
  /** Repository named in the payload (clone URL or Docker Hub repo_name). */
  readonly repoHint: string | undefined;
  /**
   * True when the push moved `refs/notes/signatures` or the `latest-signature` tag (what werf's
   * `git signatures push` and ours move): an approval may have made the tip deployable.
   */
  readonly signatureRefs?: boolean;
}

/** Per-backend counters of the forwarder. */
export interface BackendCounters {
  readonly attempts: number;
  readonly successes: number;
  readonly failures: number;
}

/** Read-only view of forwarding counters, keyed by the backend's redacted URL. */
export interface ForwardStats {
  stats(): Readonly<Record<string, BackendCounters>>;
}
