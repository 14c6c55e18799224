/**
 * The floor of "a change on the remote → the first command running": what any tool must do at
 * least — `git ls-remote` + `git fetch` of what is new into a mirror + `docker run` of the same
 * image doing the same wget of the marker. Shared by the benchmarks that time a delivery up to
 * the container's command (1: a branch push; 7: an approver's signature push), so both compare
 * against the same thing.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MarkerServer } from './marker.js';
import { git, run } from './proc.js';

/** A mirror of `origin` and the floor's steps over it. */
export interface PushFloor {
  /** Fetch into the mirror, untimed (so the next `measure` fetches only what came after). */
  sync(): Promise<void>;
  /** Milliseconds from the ls-remote to the marker hit of the container's wget. */
  measure(): Promise<number>;
}

/** Clone `origin` (a bare repository path) as a mirror under `scratch`. */
export async function createPushFloor(opts: {
  readonly origin: string;
  readonly image: string;
  readonly marker: MarkerServer;
  readonly scratch: string;
  /** The ref the ls-remote asks for (default refs/heads/main). */
  readonly ref?: string;
}): Promise<PushFloor> {
  const url = `file://${opts.origin}`;
  const mirror = join(opts.scratch, 'floor.git');
  await run('git', ['clone', '--quiet', '--mirror', url, mirror]);
  return {
    async sync() {
      await git(mirror, ['fetch', '--quiet']);
    },
    async measure() {
      return untilMarker(opts.marker, async () => {
        await git(mirror, ['ls-remote', url, opts.ref ?? 'refs/heads/main']);
        await git(mirror, ['fetch', '--quiet']);
        await run('docker', [
          'run',
          '--rm',
          '--network',
          'host',
          opts.image,
          'wget',
          '-q',
          '-O',
          '/dev/null',
          opts.marker.url,
        ]);
      });
    },
  };
}

/**
 * Milliseconds from just before `send` starts to the next marker hit — the clock of "delivery →
 * first command running". `send` should throw when the delivery is not accepted.
 */
export async function untilMarker(
  marker: MarkerServer,
  send: () => Promise<void>,
): Promise<number> {
  const hit = marker.next();
  const t0 = performance.now();
  try {
    await send();
  } catch (e) {
    hit.catch(() => undefined); // no marker will come: do not leave its timeout unhandled
    throw e;
  }
  return (await hit) - t0;
}
