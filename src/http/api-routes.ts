/**
 * The HTTP transport over the path descriptors, following Vault's conventions so the real
 * `vault`/`bao` CLI works unchanged: GET read, GET ?list=true or LIST list, PUT/POST update,
 * DELETE delete, ?help=1 path help; Vault's envelopes and status codes.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mountScope } from '../config/stored.js';
import { AppError, toAppError } from '../errors.js';
import { createDispatcher } from '../api/dispatch.js';
import { apiPaths } from '../api/paths.js';
import type { ApiServices, Operation } from '../api/types.js';
import { scopedStore, type Store } from '../storage/store.js';
import { tokenFromHeaders, type AuthOperation } from './auth.js';
import { errorAnswer, successEnvelope } from './envelope.js';
import type { AppDeps } from './types.js';

const TRUE_VALUES = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

function queryValue(q: Record<string, unknown>, key: string): string | undefined {
  const v = q[key];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The operation a request asks for, or undefined for a method the API does not serve. */
export function operationOf(
  method: string,
  query: Record<string, unknown>,
): AuthOperation | undefined {
  const help = queryValue(query, 'help');
  if (help !== undefined && help !== '' && help !== '0' && help !== 'false') return 'help';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return TRUE_VALUES.has(queryValue(query, 'list') ?? '') ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'PUT':
    case 'POST':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return undefined;
  }
}

/** Split `/v1/<mount>/<path>?…` into the mount and the decoded path below it. */
function splitUrl(url: string): { mount: string; path: string } | undefined {
  const pathname = url.split('?', 1)[0] ?? '';
  const m = /^\/v1\/([^/]+)\/?(.*)$/.exec(pathname);
  if (!m) return undefined;
  try {
    return { mount: decodeURIComponent(m[1] ?? ''), path: decodeURIComponent(m[2] ?? '') };
  } catch {
    return undefined;
  }
}

/**
 * Register `/v1/<mount>/<path>` for every configured mount's API paths, on the API's plugin
 * context (registered with prefix `/v1`, src/app.ts); requests are parsed from their full URL.
 */
export function registerApiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const dispatch = createDispatcher(deps.paths ?? apiPaths);
  const stores = new Map<string, Store>(
    deps.mounts.map((m) => [m, scopedStore(deps.store, mountScope(m))]),
  );
  const servicesOf = (m: string): ApiServices =>
    typeof deps.services === 'function' ? deps.services(m) : deps.services;
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ component: 'api' });

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const requestId = randomUUID();
    const query = (request.query ?? {}) as Record<string, unknown>;
    const where = splitUrl(request.url);
    const operation = operationOf(request.method, query);
    const fields = {
      requestId,
      method: request.method,
      mount: where?.mount,
      path: where?.path,
      operation,
    };
    try {
      if (!where) throw new AppError('NOT_FOUND', 'no such path');
      if (!operation)
        throw new AppError('UNSUPPORTED_OPERATION', `unsupported method ${request.method}`);
      await deps.authorizer.authorize({
        token: tokenFromHeaders(request.headers),
        mount: where.mount,
        path: where.path,
        operation,
      });
      const store = stores.get(where.mount);
      if (!store) throw new AppError('NOT_FOUND', 'no such path');
      const data = requestData(operation, request.body, query);
      const res = await dispatch(
        { operation, mount: where.mount, path: where.path, data },
        { store, services: servicesOf(where.mount), logger: log, now },
      );
      if (res.kind === 'help') {
        await reply.code(200).send({ help: res.help });
        return;
      }
      log.info({ ...fields, status: res.kind === 'data' ? 200 : 204 }, 'api request');
      if (res.kind === 'none') {
        await reply.code(204).send();
        return;
      }
      await reply.code(200).send(successEnvelope(requestId, res.data, res.warnings));
    } catch (e) {
      const err = toAppError(e);
      const answer = errorAnswer(err);
      if (answer.unexpected) {
        log.error(
          {
            ...fields,
            status: answer.status,
            code: err.code,
            error: err.reason,
            cause: String(err.cause ?? ''),
          },
          'api request failed',
        );
      } else {
        log.info({ ...fields, status: answer.status, code: err.code }, 'api request refused');
      }
      await reply.code(answer.status).send(answer.body);
    }
  }

  app.route({ method: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'], url: '/*', handler: handle });
}

/** Fields of a request: the JSON body for writes, query parameters (minus list/help) otherwise. */
function requestData(
  op: Operation | 'help',
  body: unknown,
  query: Record<string, unknown>,
): unknown {
  if (op === 'update') return body;
  const { list: _l, help: _h, ...rest } = query;
  return rest;
}
