/**
 * What the HTTP app is built from. Everything is injected (adapters, clock, authorizer) so tests
 * build the same app src/service.ts builds, over an in-memory store and fakes of our own interfaces.
 */
import type { ApiServices, PathDescriptor } from '../api/types.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import type { Metrics } from '../metrics.js';
import type { WebhookReceiver } from '../webhook/receiver.js';
import type { Authorizer } from './auth.js';

/** Dependencies of buildApp. Later parts (webhooks, metrics) add optional fields here. */
export interface AppDeps {
  /** The service's whole store; each mount sees it scoped by mountScope(mount). */
  readonly store: Store;
  /** Mount names served under /v1/<mount>/. */
  readonly mounts: readonly string[];
  /**
   * Services of the API paths: one set for all mounts, or one per mount (the VaultAccessService
   * keeps one AppRole session per instance, so src/service.ts builds one per mount).
   */
  readonly services: ApiServices | ((mount: string) => ApiServices);
  readonly authorizer: Authorizer;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** The API paths; defaults to apiPaths. */
  readonly paths?: readonly PathDescriptor[];
  /** Largest accepted request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** The webhook receiver served at /hook/<digest> (absent: no webhook route). */
  readonly webhooks?: { readonly receiver: WebhookReceiver };
  /** Metrics served at /metrics (absent: no metrics route). */
  readonly metrics?: Metrics;
  /** Readiness: resolves true when the service can do its work (default: always ready). */
  readonly ready?: () => Promise<boolean>;
}
