/**
 * One command of a run: create → attach → start → wait (or kill on deadline/abort) → remove.
 * The container is removed (forced) on every path, in `finally`, and a failed removal is only
 * logged: a cleanup problem must never turn a finished command into a failed run.
 */
import type Docker from 'dockerode';
import type { Logger } from '../logging.js';
import { engineError, engineStatus } from './engine-errors.js';
import { createOutputDemuxer } from './output.js';

/** How one command's container ended. */
export type StepOutcome =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'canceled' };

/** What a step needs besides the create options. */
export interface StepContext {
  readonly docker: Docker;
  /** Where the engine is expected (for error messages). */
  readonly endpoint: string;
  readonly logger: Logger;
  /** Epoch ms at which the whole run times out. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onOutput: (chunk: string) => void;
}

/** Once a container exited, how long its attach stream may take to deliver the last bytes. */
const DRAIN_LIMIT_MS = 10_000;

/** Run one container to its end; throws AppError RUNNER_FAILED when the engine fails. */
export async function runContainerStep(
  ctx: StepContext,
  create: Docker.ContainerCreateOptions,
): Promise<StepOutcome> {
  if (ctx.signal?.aborted) return { kind: 'canceled' };
  if (Date.now() >= ctx.deadline) return { kind: 'timeout' };
  const { docker, endpoint, logger } = ctx;

  let container: Docker.Container;
  try {
    container = await docker.createContainer(create);
  } catch (e) {
    throw engineError(e, 'create the container', endpoint);
  }
  const log = logger.child({ containerId: container.id.slice(0, 12) });
  let stream: NodeJS.ReadWriteStream | undefined;
  try {
    try {
      stream = await container.attach({ stream: true, stdout: true, stderr: true });
    } catch (e) {
      throw engineError(e, 'attach to the container', endpoint);
    }
    const drained = followOutput(stream, ctx.onOutput, log);
    if (ctx.signal?.aborted) return { kind: 'canceled' };
    try {
      await container.start();
    } catch (e) {
      throw engineError(e, 'start the container', endpoint);
    }
    log.debug({}, 'container started');

    const waited: Promise<StepOutcome> = container.wait().then(
      (r: { StatusCode?: unknown }) => ({
        kind: 'exited',
        exitCode: typeof r.StatusCode === 'number' ? r.StatusCode : -1,
      }),
      (e: unknown) => {
        throw engineError(e, 'wait for the container', endpoint);
      },
    );
    // A late rejection (after a timeout won the race) must not become an unhandled one.
    waited.catch(() => undefined);
    const outcome = await firstOf(waited, ctx.deadline, ctx.signal);

    if (outcome.kind === 'exited') {
      await withLimit(drained, DRAIN_LIMIT_MS);
      log.debug({ exitCode: outcome.exitCode }, 'container exited');
      return outcome;
    }
    log.info({ outcome: outcome.kind }, 'killing container');
    await container.kill().catch((e: unknown) => {
      // 404/409: it already ended or is gone; forced removal below settles it either way.
      if (engineStatus(e) !== 404 && engineStatus(e) !== 409) {
        log.warn({ err: engineError(e, 'kill the container', endpoint).reason }, 'kill failed');
      }
    });
    return outcome;
  } finally {
    stream?.removeAllListeners('data');
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
    await container.remove({ force: true, v: true }).catch((e: unknown) => {
      if (engineStatus(e) !== 404) {
        log.warn(
          { err: engineError(e, 'remove the container', endpoint).reason },
          'container removal failed',
        );
      }
    });
  }
}

/** Demultiplex `stream` into `onOutput`; resolves when the stream ended. */
function followOutput(
  stream: NodeJS.ReadableStream,
  onOutput: (chunk: string) => void,
  log: Logger,
): Promise<void> {
  const demux = createOutputDemuxer((text) => {
    try {
      onOutput(text);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'output consumer threw');
    }
  });
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      demux.end();
      resolve();
    };
    stream.on('data', (chunk: Buffer | string) => {
      demux.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}

/** The first of: the container's exit, the deadline, the abort signal. */
function firstOf(
  waited: Promise<StepOutcome>,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<StepOutcome> {
  return new Promise<StepOutcome>((resolve, reject) => {
    const onAbort = (): void => settle({ kind: 'canceled' });
    const timer = setTimeout(() => settle({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
    function settle(o: StepOutcome): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    }
    if (signal?.aborted) return settle({ kind: 'canceled' });
    signal?.addEventListener('abort', onAbort, { once: true });
    waited.then(settle, (e: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

async function withLimit(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
