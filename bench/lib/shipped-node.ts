/**
 * The node flags the service ships with: the image's `NODE_OPTIONS` (Dockerfile). Benchmarks that
 * start `node dist/main.js serve` as a child process pass the same flags, so they measure the
 * service as it runs in the image; the Dockerfile stays the one place they are written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/bench.js';

/** The flags of the image's `NODE_OPTIONS=…` line, split on spaces (none: empty). */
export function shippedNodeFlags(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const m = /^\s*NODE_OPTIONS=("([^"]*)"|(\S+))/m.exec(dockerfile);
  const value = m?.[2] ?? m?.[3] ?? '';
  return value.split(' ').filter((f) => f !== '');
}
