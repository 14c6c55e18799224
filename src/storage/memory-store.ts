/**
 * An in-memory Store for unit tests and for library use without a data directory. It follows the
 * same rules as the file store (versions, check-and-set, Vault-style listing).
 */
import { AppError } from '../errors.js';
import { assertValidKey, type PutOptions, type Store, type StoredEntry } from './store.js';

/** Create an empty in-memory store. */
export function createMemoryStore(): Store {
  const data = new Map<string, { json: string; version: number }>();
  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      assertValidKey(key);
      const e = data.get(key);
      return e ? { value: JSON.parse(e.json) as T, version: e.version } : undefined;
    },
    async put(key: string, value: unknown, opts: PutOptions = {}): Promise<number> {
      assertValidKey(key);
      const current = data.get(key)?.version ?? 0;
      if (opts.cas !== undefined && opts.cas !== current) {
        throw new AppError('CONFLICT', `version of ${key} is ${current}, not ${opts.cas}`);
      }
      const version = current + 1;
      data.set(key, { json: JSON.stringify(value), version });
      return version;
    },
    async list(prefix: string): Promise<string[]> {
      const names = new Set<string>();
      for (const key of data.keys()) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        names.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      return [...names].sort();
    },
    async delete(key: string): Promise<void> {
      assertValidKey(key);
      data.delete(key);
    },
  };
}
