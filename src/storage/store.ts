/**
 * The storage seam. Every piece of configuration and state lives at a Vault-style key
 * (`configuration`, `vault_request/<name>`, …) behind this interface, so the same API paths work
 * over local files, a Vault KV v2 mount, or (later) OpenBao's own plugin storage.
 */
import { AppError } from '../errors.js';

/** A stored value with the version it was written at (1 for the first write). */
export interface StoredEntry<T = unknown> {
  readonly value: T;
  readonly version: number;
}

/** Options for a write. */
export interface PutOptions {
  /**
   * Check-and-set: write only when the key's current version equals this number; 0 means the
   * key must not exist yet. A mismatch throws AppError CONFLICT and changes nothing.
   */
  readonly cas?: number;
  /**
   * `false`: the value is a cheap record that may be lost in a crash (it is still written
   * atomically, never torn), so a store may skip flushing it to disk. Default: durable.
   */
  readonly durable?: boolean;
}

/** Key-value storage with versions; values are plain JSON data. */
export interface Store {
  /** The value at `key`, or undefined when there is none. */
  get<T = unknown>(key: string): Promise<StoredEntry<T> | undefined>;
  /** Store `value` at `key`, replacing what was there; returns the new version. */
  put(key: string, value: unknown, opts?: PutOptions): Promise<number>;
  /**
   * Names directly below `prefix` (which is '' or ends with '/'), sorted; a name that has keys
   * below it is returned with a trailing '/', as Vault's LIST does.
   */
  list(prefix: string): Promise<string[]>;
  /** Remove `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** A key is one or more '/'-separated non-empty segments without '.' or '..' segments. */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (
    key.length === 0 ||
    key.length > 1024 ||
    segments.some((s) => s.length === 0 || s === '.' || s === '..') ||
    key.includes('\0')
  ) {
    throw new AppError('INTERNAL', `invalid storage key ${JSON.stringify(key)}`);
  }
}

/** A view of `store` where every key is prefixed with `prefix` (which must end with '/'). */
export function scopedStore(store: Store, prefix: string): Store {
  if (!prefix.endsWith('/')) throw new AppError('INTERNAL', 'scope prefix must end with /');
  return {
    get: (key) => store.get(prefix + key),
    put: (key, value, opts) => store.put(prefix + key, value, opts),
    list: (p) => store.list(prefix + p),
    delete: (key) => store.delete(prefix + key),
  };
}

/** Read, transform and write back with check-and-set, retrying a few times on a lost race. */
export async function updateWithCas<T>(
  store: Store,
  key: string,
  fn: (current: T | undefined) => T,
  attempts = 5,
): Promise<T> {
  for (let i = 0; ; i++) {
    const entry = await store.get<T>(key);
    const next = fn(entry?.value);
    try {
      await store.put(key, next, { cas: entry?.version ?? 0 });
      return next;
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'CONFLICT') || i + 1 >= attempts) throw e;
    }
  }
}
