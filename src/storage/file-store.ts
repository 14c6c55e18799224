/**
 * The embedded default Store: one JSON file per key under a data directory. Writes are atomic
 * (temp file, fsync, rename, fsync of the directory), files are 0600 and directories 0700, so a
 * kill -9 at any moment leaves either the old or the new value, never a torn one.
 * A put with `durable: false` (cheap records such as poll state) skips the fsyncs: still atomic
 * against a killed process; after an OS crash it may hold an older value or be empty, which
 * reads as absent.
 * One process owns a data directory; several replicas use the Vault KV store instead.
 *
 * I/O: records are small JSON files in the page cache (a task log, the largest, is bounded at
 * 1 MiB of text), so reads, writes into the page cache, renames and unlinks are synchronous
 * calls; only the fsyncs, the one step that waits for the device, run on the thread pool.
 * Measured with 1,000 mounts (make bench, row 12): each fs/promises call cost the event loop
 * ~25–50 µs of CPU plus a thread-pool hand-off (an async read is four of them), a synchronous
 * one ~5 µs, and the file store was the largest share of the service's CPU. The price: a data
 * dir on a device that stalls (a hung network mount) stalls the event loop with it — keep it on
 * local disk.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fsync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../errors.js';
import { assertValidKey, type PutOptions, type Store, type StoredEntry } from './store.js';

const fsyncFd = promisify(fsync);

const SUFFIX = '.json';

interface FileRecord {
  version: number;
  value: unknown;
}

function segmentToName(segment: string): string {
  return encodeURIComponent(segment).replace(/\./g, '%2E');
}

function nameToSegment(name: string): string {
  return decodeURIComponent(name);
}

/** Temp files older than this at open are a killed process's, never a live writer's. */
const STALE_TMP_MS = 60_000;

/** Remove `.tmp-*` files a killed process left below `dir` (they are never read). */
async function sweepStaleTmp(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const cutoff = Date.now() - STALE_TMP_MS;
  for (const ent of entries) {
    if (!ent.isFile() || !ent.name.startsWith('.tmp-')) continue;
    const path = join(ent.parentPath, ent.name);
    const st = await stat(path).catch(() => undefined);
    if (st !== undefined && st.mtimeMs < cutoff) await rm(path, { force: true });
  }
}

/** Open a Store rooted at `dir` (created 0700 when missing; stale temp files removed). */
export async function openFileStore(dir: string): Promise<Store> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await sweepStaleTmp(dir);
  const locks = new Map<string, Promise<unknown>>();

  const fileFor = (key: string): string => {
    assertValidKey(key);
    const segs = key.split('/').map(segmentToName);
    const last = segs.pop() as string;
    return join(dir, ...segs, last + SUFFIX);
  };

  /** Serialise writers of one key inside this process. */
  async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (locks.get(key) === tail) locks.delete(key);
    }
  }

  function readRecord(file: string): FileRecord | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AppError('STORAGE_FAILED', `cannot read ${file}`, { cause: e });
    }
    // Only a non-durable write cut short by an OS crash leaves an empty file: no value.
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as FileRecord;
    } catch (e) {
      throw new AppError('STORAGE_FAILED', `cannot read ${file}`, { cause: e });
    }
  }

  /** fsync `fd` on the thread pool (the one step that waits for the device), then close it. */
  async function syncAndClose(fd: number): Promise<void> {
    try {
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Open `tmp` for writing; its parent (0700) is created only when it is missing. */
  function openCreatingParent(tmp: string, parent: string): number {
    try {
      return openSync(tmp, 'w', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(parent, { recursive: true, mode: 0o700 });
      return openSync(tmp, 'w', 0o600);
    }
  }

  /** `durable` false skips both fsyncs: the rename is still atomic for a killed process. */
  async function writeAtomic(file: string, data: string, durable: boolean): Promise<void> {
    const parent = dirname(file);
    const tmp = join(parent, `.tmp-${randomBytes(6).toString('hex')}`);
    const fd = openCreatingParent(tmp, parent);
    // A failed write (ENOSPC, EIO) leaves no temp file behind: it would hold the disk's last
    // free bytes and survive every retry.
    try {
      let open = true;
      try {
        writeFileSync(fd, data, 'utf8');
        if (durable) {
          open = false;
          await syncAndClose(fd);
        }
      } finally {
        if (open) closeSync(fd);
      }
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    if (durable) await syncAndClose(openSync(parent, fsConstants.O_RDONLY));
  }

  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      const rec = readRecord(fileFor(key));
      return rec ? { value: rec.value as T, version: rec.version } : undefined;
    },

    put(key: string, value: unknown, opts: PutOptions = {}): Promise<number> {
      const file = fileFor(key);
      return withLock(key, async () => {
        const current = readRecord(file)?.version ?? 0;
        if (opts.cas !== undefined && opts.cas !== current) {
          throw new AppError('CONFLICT', `version of ${key} is ${current}, not ${opts.cas}`);
        }
        const version = current + 1;
        try {
          await writeAtomic(
            file,
            JSON.stringify({ version, value } satisfies FileRecord),
            opts.durable !== false,
          );
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOSPC' ? ': no space left on device (ENOSPC)' : code ? `: ${code}` : '';
          throw new AppError('STORAGE_FAILED', `cannot write ${key}${why}`, { cause: e });
        }
        return version;
      });
    },

    async list(prefix: string): Promise<string[]> {
      const trimmed = prefix.replace(/\/$/, '');
      const base =
        trimmed === '' ? dir : join(dir, ...trimmed.split('/').map((s) => segmentToName(s)));
      let entries;
      try {
        entries = readdirSync(base, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new AppError('STORAGE_FAILED', `cannot list ${prefix}`, { cause: e });
      }
      const names = new Set<string>();
      for (const ent of entries) {
        if (ent.name.startsWith('.tmp-')) continue;
        if (ent.isDirectory()) {
          // Only report folders that still hold something (deletes leave empty folders behind).
          let inner: string[];
          try {
            inner = readdirSync(join(base, ent.name));
          } catch {
            inner = [];
          }
          if (inner.some((n) => !n.startsWith('.tmp-'))) names.add(nameToSegment(ent.name) + '/');
        } else if (ent.name.endsWith(SUFFIX)) {
          names.add(nameToSegment(ent.name.slice(0, -SUFFIX.length)));
        }
      }
      return [...names].sort();
    },

    delete(key: string): Promise<void> {
      const file = fileFor(key);
      return withLock(key, async () => {
        try {
          unlinkSync(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw new AppError('STORAGE_FAILED', `cannot delete ${key}`, { cause: e });
          }
        }
      });
    },
  };
}
