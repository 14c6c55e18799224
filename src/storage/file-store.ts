/**
 * The embedded default Store: one JSON file per key under a data directory. Writes are atomic
 * (temp file, fsync, rename, fsync of the directory), files are 0600 and directories 0700, so a
 * kill -9 at any moment leaves either the old or the new value, never a torn one.
 * A put with `durable: false` (cheap records such as poll state) skips the fsyncs: still atomic
 * against a killed process; after an OS crash it may hold an older value or be empty, which
 * reads as absent.
 * One process owns a data directory; several replicas use the Vault KV store instead.
 *
 * I/O: reads (and listings) are synchronous calls, writes go through the thread pool. Records
 * are small JSON files in the page cache (a task log, the largest, is bounded at 1 MiB of text):
 * measured with 1,000 mounts (make bench, row 12), an async read cost the event loop four
 * thread-pool hand-offs of ~25–50 µs of CPU each, one readFileSync ~5–10 µs in all, and the file
 * store was the largest share of the service's CPU. Writes stay async: creating and renaming a
 * file waits for the file system's journal, which another process's fsync (git, a durable
 * write) can hold for hundreds of milliseconds — measured as event-loop stalls of 0.3–1.8 s
 * when writes were synchronous too.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../errors.js';
import { assertValidKey, type PutOptions, type Store, type StoredEntry } from './store.js';

const SUFFIX = '.json';

/** O_NOATIME where the platform has it (Linux), else nothing. */
const NOATIME = fsConstants.O_NOATIME ?? 0;

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

  /** O_NOATIME needs the file's owner (or CAP_FOWNER): another's readable file opens without. */
  function openForRead(file: string): number {
    try {
      return openSync(file, fsConstants.O_RDONLY | NOATIME);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM' || NOATIME === 0) throw e;
      return openSync(file, fsConstants.O_RDONLY);
    }
  }

  /**
   * Read synchronously. O_NOATIME (our own 0600 files): with relatime the first read after a
   * write would update the access time, which waits for the journal like a write.
   */
  function readRecord(file: string): FileRecord | undefined {
    let text: string;
    try {
      const fd = openForRead(file);
      try {
        text = readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
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

  async function fsyncDir(path: string): Promise<void> {
    const fh = await open(path, fsConstants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Open `tmp` for writing; its parent (0700) is created only when it is missing. */
  async function openCreatingParent(tmp: string, parent: string): Promise<FileHandle> {
    try {
      return await open(tmp, 'w', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(parent, { recursive: true, mode: 0o700 });
      return open(tmp, 'w', 0o600);
    }
  }

  /** `durable` false skips both fsyncs: the rename is still atomic for a killed process. */
  async function writeAtomic(file: string, data: string, durable: boolean): Promise<void> {
    const parent = dirname(file);
    const tmp = join(parent, `.tmp-${randomBytes(6).toString('hex')}`);
    const fh = await openCreatingParent(tmp, parent);
    // A failed write (ENOSPC, EIO) leaves no temp file behind: it would hold the disk's last
    // free bytes and survive every retry.
    try {
      try {
        await fh.writeFile(data, 'utf8');
        if (durable) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    if (durable) await fsyncDir(parent);
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
          await unlink(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw new AppError('STORAGE_FAILED', `cannot delete ${key}`, { cause: e });
          }
        }
      });
    },
  };
}
