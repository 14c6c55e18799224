/**
 * Finding endpoints by the digest in `/hook/<digest>`: an in-memory index over every mount's
 * `webhook/<name>` entries (plus endpoints loaded from a flux-recv file), resolved against each
 * mount's configuration (default branch, Docker image).
 *
 * Why a cache and not a read per delivery: a lookup must cost a map access, not a scan of all
 * mounts, to keep the receiver at thousands of deliveries per second. Freshness comes from
 * invalidation — `observeWebhookWrites` wraps the Store the API writes through and drops the
 * index after any write to a mount's webhooks or configuration — with a maximum age as a backstop
 * for writes made by another replica. A miss never triggers a reload (an attacker must not be
 * able to force store scans with random digests).
 */
import { z } from 'zod';
import { StorageKeys, mountScope, type StoredConfiguration } from '../config/stored.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import { hubRepositoryOfImage } from './docker-hub.js';
import { secretDigest } from './verify.js';
import {
  WEBHOOK_SOURCES,
  type EndpointLookup,
  type ResolvedEndpoint,
  type WebhookEndpointSpec,
} from './types.js';

/** The stored endpoint as read back (permissive about extra fields, strict about the rest). */
const StoredWebhookSchema = z.object({
  name: z.string().min(1),
  source: z.enum(WEBHOOK_SOURCES),
  secret: z.string().min(1),
  branch: z.string(),
  backends: z.array(z.string()),
});

/** An endpoint index that can be told to reload. */
export interface EndpointDirectory extends EndpointLookup {
  /** Drop the index; the next lookup reloads it. */
  invalidate(): void;
}

/** Options of the directory. */
export interface EndpointDirectoryOptions {
  /** The service's root store (all mounts). */
  readonly store: Store;
  /** Endpoints that do not live in the store (flux-recv file). */
  readonly staticEndpoints?: readonly WebhookEndpointSpec[];
  readonly logger: Logger;
  /** Reload at the latest after this long (default 30 s). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

type Index = ReadonlyMap<string, readonly ResolvedEndpoint[]>;

async function mountConfig(store: Store, mount: string): Promise<Partial<StoredConfiguration>> {
  const e = await store.get<Partial<StoredConfiguration>>(
    mountScope(mount) + StorageKeys.configuration,
  );
  return e?.value ?? {};
}

async function storedSpecs(store: Store, logger: Logger): Promise<WebhookEndpointSpec[]> {
  const specs: WebhookEndpointSpec[] = [];
  const mounts = (await store.list('mounts/')).filter((m) => m.endsWith('/'));
  for (const m of mounts) {
    const mount = m.slice(0, -1);
    const prefix = mountScope(mount) + StorageKeys.webhookPrefix;
    for (const name of await store.list(prefix)) {
      if (name.endsWith('/')) continue;
      const entry = await store.get(prefix + name);
      const parsed = StoredWebhookSchema.safeParse(entry?.value);
      if (!parsed.success) {
        logger.warn({ mount, endpoint: name }, 'stored webhook endpoint is invalid; skipped');
        continue;
      }
      const w = parsed.data;
      specs.push({
        name: w.name,
        mount,
        source: w.source,
        secret: Buffer.from(w.secret, 'utf8'),
        branch: w.branch === '' ? undefined : w.branch,
        backends: w.backends,
      });
    }
  }
  return specs;
}

async function buildIndex(
  store: Store,
  statics: readonly WebhookEndpointSpec[],
  logger: Logger,
): Promise<Index> {
  const specs = [...(await storedSpecs(store, logger)), ...statics];
  const configs = new Map<string, Partial<StoredConfiguration>>();
  const index = new Map<string, ResolvedEndpoint[]>();
  for (const s of specs) {
    let cfg = configs.get(s.mount);
    if (!cfg) {
      cfg = await mountConfig(store, s.mount);
      configs.set(s.mount, cfg);
    }
    const resolved: ResolvedEndpoint = {
      name: s.name,
      mount: s.mount,
      source: s.source,
      secret: s.secret,
      branch: s.branch ?? cfg.git_branch_name,
      dockerRepository:
        typeof cfg.docker_image === 'string' ? hubRepositoryOfImage(cfg.docker_image) : undefined,
      backends: s.backends,
    };
    const digest = secretDigest(s.secret);
    index.set(digest, [...(index.get(digest) ?? []), resolved]);
  }
  return index;
}

/** Create the directory. */
export function createEndpointDirectory(opts: EndpointDirectoryOptions): EndpointDirectory {
  const maxAgeMs = opts.maxAgeMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const statics = opts.staticEndpoints ?? [];
  let generation = 0;
  let cached: { index: Index; generation: number; at: number } | undefined;
  let loading: { promise: Promise<Index>; generation: number } | undefined;

  function load(): Promise<Index> {
    if (loading && loading.generation === generation) return loading.promise;
    const gen = generation;
    const promise = buildIndex(opts.store, statics, opts.logger)
      .then((index) => {
        if (gen === generation) cached = { index, generation: gen, at: now() };
        return index;
      })
      .catch((e: unknown) => {
        // Keep serving the last index when a reload fails; fail only when there is none.
        opts.logger.error({ error: String(e) }, 'webhook endpoints could not be loaded');
        if (cached) return cached.index;
        throw e;
      })
      .finally(() => {
        if (loading?.promise === promise) loading = undefined;
      });
    loading = { promise, generation: gen };
    return promise;
  }

  return {
    async lookup(digest) {
      const fresh = cached && cached.generation === generation && now() - cached.at < maxAgeMs;
      const index = fresh && cached ? cached.index : await load();
      return index.get(digest.toLowerCase()) ?? [];
    },
    invalidate() {
      generation++;
    },
  };
}

const WATCHED = /^mounts\/[^/]+\/(webhook\/|configuration$)/;

/**
 * Wrap `store` so that writes to any mount's webhook endpoints or configuration call `onChange`
 * (main.ts passes `directory.invalidate`). Reads pass through untouched.
 */
export function observeWebhookWrites(store: Store, onChange: () => void): Store {
  return {
    get: (key) => store.get(key),
    list: (prefix) => store.list(prefix),
    async put(key, value, putOpts) {
      const v = await store.put(key, value, putOpts);
      if (WATCHED.test(key)) onChange();
      return v;
    },
    async delete(key) {
      await store.delete(key);
      if (WATCHED.test(key)) onChange();
    },
  };
}
