/** Where the service keeps what it owns below its data directory (one place, so nothing drifts). */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Paths below `dataDir`: the file store, the git mirrors, and the per-run work dirs. */
export function dataLayout(dataDir: string): {
  readonly store: string;
  readonly mirrors: string;
  readonly runs: string;
} {
  return {
    store: join(dataDir, 'store'),
    mirrors: join(dataDir, 'mirrors'),
    runs: join(dataDir, 'runs'),
  };
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
