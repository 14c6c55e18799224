/**
 * One pb.Request → one pb.HandleRequestReply, over the same dispatcher the HTTP transport uses.
 * This is where OpenBao's request conventions meet ours: create/update both mean update, list
 * paths end in '/', `data` is JSON text ("null" for none), help is answered from the
 * descriptors, `resolve-path` (OpenBao ≥ 2.7, sent before every request) and `rollback` (the
 * periodic tick, path "") are answered at once, and AppError codes become ProtoError types.
 * Kept free of gRPC so it can be tested as a function.
 */
import type { DispatchContext, DispatchOperation, Dispatcher } from '../api/dispatch.js';
import type { PathFinder } from '../api/paths.js';
import { AppError, toAppError } from '../errors.js';
import type { Logger } from '../logging.js';
import { READ_ONLY_STORAGE } from './storage-client.js';
import { ErrType, type HandleRequestReply, type PbRequest, type ProtoError } from './messages.js';

/** What a request needs besides itself; `periodic` runs on every rollback tick. */
export interface RequestEnv {
  readonly dispatch: Dispatcher;
  readonly find: PathFinder;
  readonly context: DispatchContext;
  readonly logger: Logger;
  /** Called on a rollback tick; must return quickly (long work goes to the background). */
  readonly periodic?: () => void;
}

const OPERATIONS: Readonly<Record<string, DispatchOperation>> = {
  create: 'update',
  update: 'update',
  read: 'read',
  list: 'list',
  delete: 'delete',
  help: 'help',
};

/** The mount name from `mount_point` ("flant_gitops/" → "flant_gitops"). */
export function mountName(req: Pick<PbRequest, 'mount_point'>, fallback = 'flant_gitops'): string {
  const m = req.mount_point.replace(/\/+$/, '');
  return m === '' ? fallback : m;
}

/** Parse the JSON text of `data`; "" and "null" mean no fields. */
function parseData(text: string): unknown {
  if (text === '' || text === 'null') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('INVALID_INPUT', '(body): must be a JSON object');
  }
}

const err = (err_type: number, err_msg: string, code?: number): HandleRequestReply => ({
  err: code === undefined ? { err_type, err_msg } : { err_type, err_msg, err_code: String(code) },
});

/**
 * The ProtoError for an AppError on `operation`, or undefined for "no response" (a missing
 * object on read/list: OpenBao answers 404 with no errors, as the HTTP transport does).
 */
export function protoErrorOf(e: AppError, operation: DispatchOperation): ProtoError | undefined {
  switch (e.code) {
    case 'INVALID_INPUT': {
      const list = e.details?.['errors'];
      const lines =
        Array.isArray(list) && list.every((x) => typeof x === 'string') ? list : [e.reason];
      // One message per request is all the protocol carries: one line per problem.
      return { err_type: ErrType.invalidRequest, err_msg: lines.join('\n') };
    }
    case 'NOT_FOUND':
      if (operation === 'read' || operation === 'list') return undefined;
      return { err_type: ErrType.coded, err_msg: e.reason, err_code: '404' };
    case 'PERMISSION_DENIED':
      return { err_type: ErrType.permissionDenied, err_msg: 'permission denied' };
    case 'UNSUPPORTED_OPERATION':
      return { err_type: ErrType.unsupportedOperation, err_msg: e.reason };
    case 'INTERNAL':
      return { err_type: ErrType.coded, err_msg: 'internal error', err_code: '500' };
    case 'STORAGE_FAILED':
      // On a standby a write fails as read-only: OpenBao's own text makes it forward the request.
      if (e.details?.['readOnly'] === true) {
        return { err_type: ErrType.unknown, err_msg: READ_ONLY_STORAGE };
      }
      return { err_type: ErrType.coded, err_msg: 'storage is unavailable', err_code: '503' };
    default:
      return { err_type: ErrType.coded, err_msg: e.reason, err_code: String(e.status) };
  }
}

/** Serve one request; never throws (every failure becomes a ProtoError or an empty reply). */
export async function handlePbRequest(
  req: PbRequest,
  env: RequestEnv,
): Promise<HandleRequestReply> {
  const mount = mountName(req);
  const fields = { requestId: req.id, mount, path: req.path, operation: req.operation };
  if (req.operation === 'rollback') {
    env.periodic?.();
    return {};
  }
  // OpenBao ≥ 2.7 resolves the path before each request; an empty answer lets it proceed.
  if (req.operation === 'resolve-path') return {};
  const operation = OPERATIONS[req.operation];
  if (!operation) {
    return err(ErrType.unsupportedOperation, `unsupported operation ${req.operation}`);
  }
  if (!env.find(req.path)) return err(ErrType.unsupportedPath, 'unsupported path');
  try {
    const data = operation === 'help' ? undefined : parseData(req.data);
    const res = await env.dispatch({ operation, mount, path: req.path, data }, env.context);
    if (res.kind === 'help')
      return { response: { data: JSON.stringify({ help: res.help }), warnings: [] } };
    env.logger.info({ ...fields, status: res.kind === 'data' ? 200 : 204 }, 'api request');
    if (res.kind === 'none') return {};
    return {
      response: { data: JSON.stringify(res.data), warnings: [...(res.warnings ?? [])] },
    };
  } catch (e) {
    const appErr = toAppError(e);
    const proto = protoErrorOf(appErr, operation);
    if (appErr.details?.['readOnly'] === true) {
      // A standby: OpenBao forwards the request to the active node, where it is served.
      env.logger.debug(fields, 'api request left to the active node');
    } else if (appErr.status >= 500) {
      env.logger.error(
        { ...fields, code: appErr.code, error: appErr.reason, cause: String(appErr.cause ?? '') },
        'api request failed',
      );
    } else {
      env.logger.info({ ...fields, code: appErr.code }, 'api request refused');
    }
    if (!proto) return {};
    // A 400 travels as logical.ErrorResponse does: the message in response.data.error, which
    // OpenBao returns as the one `errors` entry (a bare ProtoError gets multierror-wrapped).
    if (proto.err_type === ErrType.invalidRequest) {
      return {
        response: { data: JSON.stringify({ error: proto.err_msg }), warnings: [] },
        err: proto,
      };
    }
    return { err: proto };
  }
}
