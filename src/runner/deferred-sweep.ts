/**
 * A runner whose sweeps wait for the first real engine call. After a clean stop nothing of ours
 * should be left (every run removes its container, and a stop waits for the runs), so sweeping
 * at start-up would load the Docker client (~7 MiB resident) only to find nothing; deferred,
 * the sweep still happens — before the first image check or run — and an idle service never
 * loads the client. After a crash the service flushes them right after its mounts start
 * (`flushSweeps`), all mounts in one engine listing: a leftover container may still be running a
 * command.
 */
import type { Logger } from '../logging.js';
import { sweepSets, type ContainerRunner, type SweepLabels } from './types.js';

/** Wrap `runner` so that `sweep` only records its labels; they are swept before first use. */
export function deferSweeps(
  runner: ContainerRunner,
  logger: Logger,
): ContainerRunner & { readonly flushSweeps: () => Promise<void> } {
  const pending: SweepLabels[] = [];
  let flushing: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (pending.length === 0) return flushing ?? Promise.resolve();
    flushing ??= (async () => {
      // Every set recorded so far in one sweep (one engine listing for all mounts).
      for (let batch = pending.splice(0); batch.length > 0; batch = pending.splice(0)) {
        try {
          await runner.sweep(batch);
        } catch (e) {
          logger.warn({ err: String(e) }, 'leftover containers could not be swept');
        }
      }
      flushing = undefined;
    })();
    return flushing;
  };
  return {
    ping: () => runner.ping(),
    async ensureImage(image) {
      await flush();
      return runner.ensureImage(image);
    },
    async run(spec) {
      await flush();
      return runner.run(spec);
    },
    /** Sweep what is recorded now (after a crash: every mount's sets, in one sweep). */
    flushSweeps: flush,
    sweep(labels) {
      pending.push(...sweepSets(labels));
      return Promise.resolve(0);
    },
  };
}
