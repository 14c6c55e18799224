/** Where the service keeps what it owns below its data directory (one place, so nothing drifts). */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';

/**
 * Paths below `dataDir`: the file store, the git mirrors, the per-run work dirs, and the
 * short-lived files of git calls (SSH key copies, export indexes). Nothing the service writes
 * lives outside the data dir, so one disk quota bounds it and a restart can sweep it.
 */
export function dataLayout(dataDir: string): {
  readonly store: string;
  readonly mirrors: string;
  readonly runs: string;
  readonly tmp: string;
  readonly runningMarker: string;
} {
  return {
    store: join(dataDir, 'store'),
    mirrors: join(dataDir, 'mirrors'),
    runs: join(dataDir, 'runs'),
    tmp: join(dataDir, 'tmp'),
    runningMarker: join(dataDir, 'running'),
  };
}

/** What `sweepWorkDirs` did. */
export interface SweepReport {
  readonly removed: number;
  /** Entries that could not be removed (logged by the caller; the start goes on). */
  readonly failed: readonly string[];
}

/**
 * Remove what a killed process left in the work dirs: every run dir (exported commits, a
 * command's output), every temp file of a git call (SSH private key copies included) and every
 * half-made mirror (`.tmp-*` next to the mirrors). Call at start, before any poll: the process
 * owns its data dir, so nothing in these dirs belongs to a live run. A git child of the killed
 * process may still be writing into a dir for a moment (it outlives a kill -9 of its parent),
 * so removal is retried; what still cannot be removed is reported, never fatal.
 */
export async function sweepWorkDirs(dataDir: string): Promise<SweepReport> {
  const layout = dataLayout(dataDir);
  let removed = 0;
  const failed: string[] = [];
  const clear = async (dir: string, only?: (name: string) => boolean): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) {
      if (only && !only(name)) continue;
      try {
        await rm(join(dir, name), {
          recursive: true,
          force: true,
          maxRetries: 20,
          retryDelay: 100,
        });
        removed++;
      } catch {
        failed.push(join(dir, name));
      }
    }
  };
  await clear(layout.runs);
  await clear(layout.tmp);
  let mounts: string[] = [];
  try {
    mounts = await readdir(layout.mirrors);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const m of mounts) await clear(join(layout.mirrors, m), (n) => n.startsWith('.tmp-'));
  return { removed, failed };
}

/**
 * Mark the data dir in use until `clear` is called (a clean stop). Resolves true when the mark
 * was already there: the previous process did not stop cleanly (killed, crashed, power lost),
 * so whatever it was polling or running must be polled again at once.
 */
export async function markRunning(dataDir: string): Promise<{
  readonly uncleanStop: boolean;
  clear(): Promise<void>;
}> {
  const file = dataLayout(dataDir).runningMarker;
  let uncleanStop = true;
  try {
    await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    uncleanStop = false;
  }
  await writeFile(file, `${process.pid}\n`, { mode: 0o600 });
  return { uncleanStop, clear: () => rm(file, { force: true }) };
}

/**
 * This service instance's identity, kept in `<dataDir>/instance-id` (created once, random), so
 * that after a crash the restarted service recognises — and sweeps — its own containers and no
 * other instance's.
 */
export async function loadOrCreateInstanceId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'instance-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{16,64}$/.test(id)) return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomBytes(8).toString('hex');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/**
 * Create `dir` (0700) when missing and prove this process can write in it, or throw
 * STORAGE_FAILED whose reason names the fix. The usual cause is a bind-mounted data dir that the
 * host (or Docker, creating a missing host path) owns as root while the service runs as another
 * user; the reason says which uid/gid must own `dataDir`.
 */
export async function assertWritableDir(dir: string, dataDir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.write-probe-${process.pid}`);
    await writeFile(probe, '', { mode: 0o600 });
    await rm(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const uid = process.getuid?.() ?? -1;
    const gid = process.getgid?.() ?? -1;
    const fix =
      code === 'EROFS'
        ? `mount ${dataDir} read-write`
        : `make ${dataDir} writable by uid ${uid} gid ${gid}, e.g. \`sudo install -d -o ${uid} -g ${gid} -m 0700 ${dataDir}\` (the container image does this itself when started as root, its default)`;
    throw new AppError(
      'STORAGE_FAILED',
      `the data dir is not writable: cannot write in ${dir} (${code}) as uid ${uid} gid ${gid}; ${fix}`,
      { details: { dir, code, uid, gid }, next: 'user' },
    );
  }
}
