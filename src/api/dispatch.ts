/**
 * The transport-independent dispatcher: one request (operation, mount, path, fields) against the
 * path descriptors of src/api/paths.ts. The HTTP transport (src/http/api-routes.ts) and the
 * OpenBao plugin transport (src/plugin/) both call it, so there is exactly one place where a
 * path is matched, help is answered and a handler runs; transports only translate envelopes
 * and map AppError codes onto their own error forms.
 */
import { BODY_MAX_DEPTH, nestingDepth } from '../config/limits.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import { helpText } from './help.js';
import { apiPaths, createPathFinder, type PathFinder } from './paths.js';
import type { ApiServices, Operation, PathContext, PathDescriptor } from './types.js';

/** Operations a transport may dispatch: the logical ones plus path help. */
export type DispatchOperation = Operation | 'help';

/** One request, as every transport can express it. */
export interface DispatchRequest {
  readonly operation: DispatchOperation;
  /** The mount name, e.g. flant_gitops. */
  readonly mount: string;
  /** The path below the mount, without a leading slash. */
  readonly path: string;
  /**
   * Request fields: the decoded body for writes, query parameters for reads and lists. Absent
   * (undefined, null) means none; anything but a JSON object is refused once the path and
   * operation are known, so 404 and 405 still win over a malformed body.
   */
  readonly data: unknown;
}

/** What a request may touch: the mount's store and services, a logger, a clock. */
export interface DispatchContext {
  /** Storage scoped to the request's mount. */
  readonly store: Store;
  readonly services: ApiServices;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** The outcome of a dispatched request. */
export type DispatchResult =
  | {
      readonly kind: 'data';
      readonly data: Readonly<Record<string, unknown>>;
      readonly warnings?: readonly string[];
    }
  | { readonly kind: 'none' }
  | { readonly kind: 'help'; readonly help: string };

/** Dispatches requests to the descriptors; throws AppError for every refusal. */
export type Dispatcher = (req: DispatchRequest, ctx: DispatchContext) => Promise<DispatchResult>;

/**
 * Build a dispatcher over `paths` (compiled once). Unknown path → NOT_FOUND; an operation the
 * path lacks → UNSUPPORTED_OPERATION; help → the descriptor's help text; else the handler's
 * answer (data, or nothing for 204-style answers).
 */
export function createDispatcher(paths: readonly PathDescriptor[] = apiPaths): Dispatcher {
  const find: PathFinder = createPathFinder(paths);
  // Per mount, the tail of the writes of `serialiseWrites` paths (this dispatcher's own state).
  const writeTails = new Map<string, Promise<unknown>>();
  const serialised = <T>(mount: string, fn: () => Promise<T>): Promise<T> => {
    const prev = writeTails.get(mount) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    writeTails.set(mount, tail);
    void tail.then(() => {
      if (writeTails.get(mount) === tail) writeTails.delete(mount);
    });
    return run;
  };
  return async (req, ctx) => {
    const match = find(req.path);
    if (!match) throw new AppError('NOT_FOUND', 'no such path');
    if (req.operation === 'help') {
      return { kind: 'help', help: helpText(match.descriptor, `${req.mount}/${req.path}`) };
    }
    const handler = match.descriptor.operations[req.operation];
    if (!handler) {
      throw new AppError(
        'UNSUPPORTED_OPERATION',
        `unsupported operation ${req.operation} on this path`,
      );
    }
    const pathCtx: PathContext = {
      store: ctx.store,
      services: ctx.services,
      logger: ctx.logger,
      now: ctx.now,
    };
    const pathReq = {
      operation: req.operation,
      mount: req.mount,
      path: req.path,
      captures: match.captures,
      data: requestFields(req.data),
    };
    const write = req.operation === 'update' || req.operation === 'delete';
    const res =
      write && match.descriptor.serialiseWrites
        ? await serialised(req.mount, () => handler(pathReq, pathCtx))
        : await handler(pathReq, pathCtx);
    if (!res) return { kind: 'none' };
    return res.warnings
      ? { kind: 'data', data: res.data, warnings: res.warnings }
      : { kind: 'data', data: res.data };
  };
}

/** The fields of a request body: an object, or none for an empty body. */
function requestFields(data: unknown): Readonly<Record<string, unknown>> {
  if (data === undefined || data === null || data === '') return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new AppError('INVALID_INPUT', '(body): must be a JSON object');
  }
  // Deeply nested bodies are refused before any rule, copy or storage walks them.
  if (nestingDepth(data, BODY_MAX_DEPTH + 1) > BODY_MAX_DEPTH + 1) {
    throw new AppError(
      'INVALID_INPUT',
      `(body): must not be nested more than ${BODY_MAX_DEPTH} levels deep`,
    );
  }
  return data as Record<string, unknown>;
}
