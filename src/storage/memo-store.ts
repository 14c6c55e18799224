/**
 * A memory of chosen keys in front of a store that this process alone writes: the service's file
 * store (a data dir belongs to one running service). Every poll of a mount reads its last
 * successful commit; a thousand mounts polled each minute made that one file read after another.
 * A remembered key is read from the store once; after that `get` answers from memory what the
 * last read or the last write through this store left there (value and version), until the next
 * write or delete through here replaces it. A write that fails (a check-and-set conflict, a full
 * disk) forgets the key, so the next read asks the store again.
 *
 * Values are shared by every reader, so they are frozen (a value written is copied first: the
 * writer keeps its own object).
 */
import type { PutOptions, Store, StoredEntry } from './store.js';

/** `inner` with the keys `remember` accepts kept in memory (see the file doc). */
export function memoizedStore(inner: Store, remember: (key: string) => boolean): Store {
  // null: known to be absent.
  const memo = new Map<string, StoredEntry | null>();
  // Bumped by every write or delete of a key: a read that overlapped one keeps nothing.
  const generation = new Map<string, number>();
  const gen = (key: string): number => generation.get(key) ?? 0;
  const bump = (key: string): number => {
    const g = gen(key) + 1;
    generation.set(key, g);
    memo.delete(key);
    return g;
  };

  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      if (!remember(key)) return inner.get<T>(key);
      const hit = memo.get(key);
      if (hit !== undefined) return (hit ?? undefined) as StoredEntry<T> | undefined;
      const g = gen(key);
      const e = await inner.get<T>(key);
      if (gen(key) === g) {
        memo.set(key, e === undefined ? null : { value: deepFreeze(e.value), version: e.version });
      }
      return e;
    },
    async put(key: string, value: unknown, opts?: PutOptions): Promise<number> {
      if (!remember(key)) return inner.put(key, value, opts);
      const g = bump(key);
      const kept = deepFreeze(structuredClone(value));
      const version = await inner.put(key, value, opts);
      if (gen(key) === g) memo.set(key, { value: kept, version });
      return version;
    },
    list: (prefix: string) => inner.list(prefix),
    async delete(key: string): Promise<void> {
      if (!remember(key)) return inner.delete(key);
      const g = bump(key);
      await inner.delete(key);
      if (gen(key) === g) memo.set(key, null);
    },
  };
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
