/**
 * Finding endpoints by the digest in `/hook/<digest>`: an in-memory index over every mount's
 * `webhook/<name>` entries (plus endpoints loaded from a flux-recv file), resolved against each
 * mount's configuration (default branch, Docker image).
 *
 * Why a cache and not a read per delivery: a lookup must cost a map access, not a scan of all
 * mounts, to keep the receiver at thousands of deliveries per second. Freshness comes from
 * invalidation — the directory subscribes to the settings owner's change notices and drops the
 * index after any write to a mount's webhooks or configuration — with a maximum age as a backstop
 * for writes made by another replica. Endpoints and configurations are read through the settings
 * owner (src/config/mount-settings.ts), which checks them against their schemas. A miss never triggers a reload (an attacker must not be
 * able to force store scans with random digests).
 */
import { mountSettings, type MountSettings } from '../config/mount-settings.js';
import type { SettingsEvents } from '../config/settings-events.js';
import type { Configuration } from '../config/settings-schemas.js';
import { mountScope } from '../config/stored.js';
import { isAppError } from '../errors.js';
import type { Logger } from '../logging.js';
import { scopedStore, type Store } from '../storage/store.js';
import { hubRepositoryOfImage } from './docker-hub.js';
import { secretDigest, webhookHmacKey } from './verify.js';
import { type EndpointLookup, type ResolvedEndpoint, type WebhookEndpointSpec } from './types.js';

/** An endpoint index that can be told to reload. */
export interface EndpointDirectory extends EndpointLookup {
  /** Drop the index; the next lookup reloads it. */
  invalidate(): void;
}

/** Options of the directory. */
export interface EndpointDirectoryOptions {
  /** The service's root store (all mounts). */
  readonly store: Store;
  /** Change notices of the settings owner: a webhook or configuration write drops the index. */
  readonly settingsEvents?: SettingsEvents;
  /** Endpoints that do not live in the store (flux-recv file). */
  readonly staticEndpoints?: readonly WebhookEndpointSpec[];
  readonly logger: Logger;
  /** Reload at the latest after this long (default 30 s). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

type Index = ReadonlyMap<string, readonly ResolvedEndpoint[]>;

/** The settings of `mount` in the service's root store. */
function settingsOf(store: Store, mount: string, logger: Logger): MountSettings {
  return mountSettings(scopedStore(store, mountScope(mount)), { mount, logger });
}

/** The configuration of a mount, or undefined when it has none or the stored one is invalid. */
async function mountConfig(
  store: Store,
  mount: string,
  logger: Logger,
): Promise<Configuration | undefined> {
  try {
    return await settingsOf(store, mount, logger).configuration.get();
  } catch (e) {
    // An invalid stored configuration (not a storage failure) leaves its endpoints unresolved.
    if (!isAppError(e, 'NOT_CONFIGURED')) throw e;
    logger.warn({ mount }, 'stored mount configuration is invalid; endpoints resolve without it');
    return undefined;
  }
}

async function storedSpecs(store: Store, logger: Logger): Promise<WebhookEndpointSpec[]> {
  const specs: WebhookEndpointSpec[] = [];
  const mounts = (await store.list('mounts/')).filter((m) => m.endsWith('/'));
  for (const m of mounts) {
    const mount = m.slice(0, -1);
    for (const { value: w } of await settingsOf(store, mount, logger).webhooks.all()) {
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
  const configs = new Map<string, Configuration | undefined>();
  const index = new Map<string, ResolvedEndpoint[]>();
  for (const s of specs) {
    if (!configs.has(s.mount)) configs.set(s.mount, await mountConfig(store, s.mount, logger));
    const cfg = configs.get(s.mount);
    const resolved: ResolvedEndpoint = {
      name: s.name,
      mount: s.mount,
      source: s.source,
      secret: s.secret,
      hmacKey: webhookHmacKey(s.secret),
      branch: s.branch ?? cfg?.git_branch_name,
      dockerRepository: cfg === undefined ? undefined : hubRepositoryOfImage(cfg.docker_image),
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
  opts.settingsEvents?.subscribe((change) => {
    if (change.setting === 'webhook' || change.setting === 'configuration') generation++;
  });

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
