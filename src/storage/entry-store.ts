/**
 * A versioned Store over a plain byte key-value storage without versions — OpenBao's plugin
 * storage (pb.Storage: get/put/list/delete on the mount's barrier view). Each entry holds
 * `{"version":n,"value":…}` as JSON; a delete removes the entry, so a re-created key starts
 * again at version 1 and `cas: 0` keeps its meaning, as in the file store.
 *
 * Check-and-set uses an in-process lock per key, not storage transactions: a plugin process
 * serves exactly one mount (no multiplexing), and a mount's barrier view is written only by that
 * process, so serialising read-compare-write per key inside it is enough and costs two calls per
 * write on any storage backend. OpenBao's transactions (BeginTx/Commit) exist only on
 * transactional backends (raft, inmem — not `file`) and would cost four calls per write.
 */
import { AppError } from '../errors.js';
import { assertValidKey, type PutOptions, type Store, type StoredEntry } from './store.js';

/** The byte storage below: its errors are thrown as they come (the caller maps them). */
export interface RawStorage {
  get(key: string): Promise<Buffer | undefined>;
  put(key: string, value: Buffer): Promise<void>;
  /** Names directly below `prefix`, folders with a trailing '/' (Vault semantics). */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

interface Envelope {
  readonly version: number;
  readonly value: unknown;
}

function decode(key: string, bytes: Buffer): Envelope {
  try {
    const e = JSON.parse(bytes.toString('utf8')) as Partial<Envelope>;
    if (typeof e.version === 'number' && Number.isInteger(e.version) && 'value' in e) {
      return { version: e.version, value: e.value };
    }
  } catch {
    // fall through
  }
  throw new AppError('STORAGE_FAILED', `the entry at "${key}" was not written by flant-gitops`, {
    next: 'user',
  });
}

/** Serialises async sections per key (a promise chain per key, dropped when idle). */
function keyedLock(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** Open a versioned Store over `raw`. */
export function openEntryStore(raw: RawStorage): Store {
  const locked = keyedLock();
  const read = async (key: string): Promise<Envelope | undefined> => {
    const bytes = await raw.get(key);
    return bytes === undefined ? undefined : decode(key, bytes);
  };
  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      assertValidKey(key);
      const e = await read(key);
      return e ? { value: e.value as T, version: e.version } : undefined;
    },
    put(key: string, value: unknown, opts: PutOptions = {}): Promise<number> {
      assertValidKey(key);
      const json = JSON.stringify(value);
      return locked(key, async () => {
        const current = (await read(key))?.version ?? 0;
        if (opts.cas !== undefined && opts.cas !== current) {
          throw new AppError('CONFLICT', `version of ${key} is ${current}, not ${opts.cas}`);
        }
        const version = current + 1;
        await raw.put(key, Buffer.from(`{"version":${version},"value":${json ?? 'null'}}`));
        return version;
      });
    },
    async list(prefix: string): Promise<string[]> {
      if (prefix !== '') assertValidKey(prefix.replace(/\/$/, ''));
      return [...(await raw.list(prefix))].sort();
    },
    delete(key: string): Promise<void> {
      assertValidKey(key);
      return locked(key, () => raw.delete(key));
    },
  };
}
