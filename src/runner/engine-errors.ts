/**
 * Turns whatever the Docker engine client throws into AppError RUNNER_FAILED with a reason a
 * person can act on ("engine not reachable at …" vs. "engine refused …"), so no caller has to
 * look at docker-modem's error shapes.
 */
import { AppError } from '../errors.js';

/** Socket-level error codes that mean "nobody (usable) is listening there". */
const UNREACHABLE_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'EACCES',
  'EPERM',
  'ECONNRESET',
  'ENOTSOCK',
  'EPIPE',
]);

/** The fields of a docker-modem error we read (all optional: anything may be thrown). */
interface EngineErrorShape {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly json?: unknown;
  readonly message?: unknown;
}

/** HTTP status of an engine reply carried by `e`, if any (404 = no such object). */
export function engineStatus(e: unknown): number | undefined {
  const s = (e as EngineErrorShape | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own message (`{"message": …}` body) or the error's message. */
export function engineMessage(e: unknown): string {
  const shape = (e ?? {}) as EngineErrorShape;
  const json = shape.json;
  if (json && typeof json === 'object' && 'message' in json) {
    const m = (json as { message?: unknown }).message;
    if (typeof m === 'string' && m.length > 0) return m;
  }
  if (typeof shape.message === 'string' && shape.message.length > 0) return shape.message;
  return String(e);
}

/**
 * Wrap an engine failure during `action` (e.g. "create the container") into RUNNER_FAILED.
 * `endpoint` names where the engine was expected, for the "not reachable" case.
 */
export function engineError(e: unknown, action: string, endpoint: string): AppError {
  if (e instanceof AppError) return e;
  const code = (e as EngineErrorShape | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new AppError(
      'RUNNER_FAILED',
      `Docker engine not reachable at ${endpoint} (${code}) while trying to ${action}`,
      { cause: e, details: { endpoint, errno: code } },
    );
  }
  const status = engineStatus(e);
  return new AppError('RUNNER_FAILED', `Docker engine failed to ${action}: ${engineMessage(e)}`, {
    cause: e,
    details: status === undefined ? { endpoint } : { endpoint, status },
  });
}
