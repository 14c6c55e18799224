/**
 * Copy every key of one Store into another — to move a service from its data directory to a
 * Vault KV mount when it grows to several replicas, or back. It walks `list` recursively, writes
 * only keys whose value differs (so running it twice changes nothing the second time), and
 * reports counts and key names, never values: values include secrets.
 *
 * Versions are not copied (each backend numbers its own writes), and keys that exist only in the
 * target are left alone: this is a copy, not a mirror.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Store } from './store.js';

/** What a copy did. */
export interface CopyReport {
  /** Keys found in the source. */
  readonly keys: number;
  /** Keys written to the target (missing there or different). */
  readonly written: number;
  /** Keys already equal in the target. */
  readonly unchanged: number;
}

/** Options of a copy. */
export interface CopyOptions {
  /** Copy only below this folder ('' = everything; otherwise ends with '/'). */
  readonly prefix?: string;
  /** Called once per key with its name and what happened (for progress logs; no values). */
  readonly onKey?: (key: string, action: 'written' | 'unchanged') => void;
}

/** Every key below `prefix` in `store`, depth first, in list order. */
export async function* walkKeys(store: Store, prefix = ''): AsyncGenerator<string> {
  for (const name of await store.list(prefix)) {
    if (name.endsWith('/')) yield* walkKeys(store, prefix + name);
    else yield prefix + name;
  }
}

/** Copy `from` into `to`; idempotent. Storage errors propagate (a rerun resumes safely). */
export async function copyStore(
  from: Store,
  to: Store,
  opts: CopyOptions = {},
): Promise<CopyReport> {
  let keys = 0;
  let written = 0;
  let unchanged = 0;
  for await (const key of walkKeys(from, opts.prefix ?? '')) {
    const src = await from.get(key);
    // Listed but gone by now (deleted concurrently): nothing to copy.
    if (!src) continue;
    keys++;
    const dst = await to.get(key);
    if (dst && isDeepStrictEqual(dst.value, src.value)) {
      unchanged++;
      opts.onKey?.(key, 'unchanged');
      continue;
    }
    await to.put(key, src.value);
    written++;
    opts.onKey?.(key, 'written');
  }
  return { keys, written, unchanged };
}
