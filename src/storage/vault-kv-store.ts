/**
 * The Store for several replicas: every key lives in a Vault/OpenBao KV v2 mount under one prefix,
 * with the same key names as the file store. KV v2 already versions each secret and offers
 * check-and-set, so a Store version is the KV metadata version and `cas` maps onto KV's own
 * (`cas: 0` = "must not exist"). A delete removes the metadata too, so a re-created key starts
 * again at version 1 and `cas: 0` keeps its meaning — exactly as in the file store.
 */
import { AppError } from '../errors.js';
import type { KvClient } from '../vault/kv-client.js';
import { assertValidKey, type PutOptions, type Store, type StoredEntry } from './store.js';

/** Where the store lives inside the KV mount. */
export interface VaultKvStoreOptions {
  readonly client: KvClient;
  /** Folder inside the mount holding every key, e.g. `flant-gitops` (slashes allowed). */
  readonly prefix: string;
}

/** Open a Store over `client` rooted at `<prefix>/`. Sends nothing until first use. */
export function openVaultKvStore(opts: VaultKvStoreOptions): Store {
  const root = opts.prefix.replace(/^\/+|\/+$/g, '');
  if (root === '') throw new AppError('INTERNAL', 'the KV store prefix must not be empty');
  assertValidKey(root);
  const { client } = opts;
  const pathOf = (key: string): string => {
    assertValidKey(key);
    return `${root}/${key}`;
  };

  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      const entry = await client.read(pathOf(key));
      if (!entry) return undefined;
      if (!('value' in entry.data)) {
        throw new AppError(
          'STORAGE_FAILED',
          `the KV secret for "${key}" has no "value" field (not written by this service)`,
          { next: 'user' },
        );
      }
      return { value: entry.data.value as T, version: entry.version };
    },

    put(key: string, value: unknown, putOpts: PutOptions = {}): Promise<number> {
      return client.write(pathOf(key), { value }, putOpts.cas);
    },

    async list(prefix: string): Promise<string[]> {
      const trimmed = prefix.replace(/\/$/, '');
      if (trimmed !== '') assertValidKey(trimmed);
      return client.list(trimmed === '' ? `${root}/` : `${root}/${trimmed}/`);
    },

    delete(key: string): Promise<void> {
      return client.deleteAll(pathOf(key));
    },
  };
}
