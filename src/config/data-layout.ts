/** Where the service keeps what it owns below its data directory (one place, so nothing drifts). */
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
