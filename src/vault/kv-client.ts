/**
 * A small client for one Vault/OpenBao KV v2 mount, in our own types, so the service can keep its
 * configuration and state in Vault when several replicas share it. It rides on the same transport
 * as the target-Vault calls (TLS pinning, timeout, bounded retry) and turns every failure into an
 * AppError: a lost check-and-set is CONFLICT, anything else STORAGE_FAILED. No token or secret id
 * is ever part of an error or a log line.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { scrub } from './failures.js';
import { createKvAuth, type KvAuth } from './kv-auth.js';
import {
  VaultCallError,
  classifyFailure,
  createVaultTransport,
  type VaultCall,
  type VaultCallFailure,
  type VaultEndpoint,
  type VaultTransport,
} from './transport.js';

export type { KvAuth } from './kv-auth.js';

/** A secret's data with the KV version it was read at. */
export interface KvEntry {
  readonly data: Readonly<Record<string, unknown>>;
  readonly version: number;
}

/** The KV v2 operations the storage layer needs; paths are relative to the mount. */
export interface KvClient {
  /** Current version of `path`, or undefined when there is none (or it was deleted). */
  read(path: string): Promise<KvEntry | undefined>;
  /**
   * Write a new version; with `cas` only when the current version equals it (0 = must not exist).
   * Returns the new version; a mismatch throws AppError CONFLICT.
   */
  write(path: string, data: Readonly<Record<string, unknown>>, cas?: number): Promise<number>;
  /** Names directly below the folder `path` ('' = the mount's root); folders end with '/'. */
  list(path: string): Promise<string[]>;
  /** Delete every version and the metadata of `path`, so its version numbers start over. */
  deleteAll(path: string): Promise<void>;
}

/** Where the mount is, how to authenticate, and the transport's knobs. */
export interface KvClientOptions {
  readonly endpoint: VaultEndpoint;
  /** The KV v2 mount path, e.g. `secret` or `fg/state`. */
  readonly mount: string;
  readonly auth: KvAuth;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Attempts per idempotent request for transient failures (default 3). */
  readonly attempts?: number;
  /** ms since the epoch; drives token renewal (default Date.now). */
  readonly now?: () => number;
  /** Replace the transport (default: node-vault over `endpoint`). */
  readonly transport?: VaultTransport;
}

const ReadResponse = z.looseObject({
  data: z.looseObject({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.looseObject({ version: z.number().int().positive() }),
  }),
});
const WriteResponse = z.looseObject({
  data: z.looseObject({ version: z.number().int().positive() }),
});
const ListResponse = z.looseObject({
  data: z.looseObject({ keys: z.array(z.string()) }),
});

const CAS_MISMATCH = /check-and-set parameter did not match/i;

/** `a/b c/` → `a/b%20c/` (each segment encoded, slashes kept). */
function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function describe(f: VaultCallFailure): string {
  if (f.kind === 'http') {
    return f.errors.length ? `HTTP ${f.status}: ${f.errors.join('; ')}` : `HTTP ${f.status}`;
  }
  return `${f.kind === 'tls' ? 'TLS failure' : 'unreachable'} (${f.code}): ${f.message}`;
}

/** Open a client for one KV v2 mount. Nothing is sent until the first call. */
export function createKvClient(opts: KvClientOptions): KvClient {
  const mount = opts.mount.replace(/^\/+|\/+$/g, '');
  const transport =
    opts.transport ??
    createVaultTransport(opts.endpoint, {
      timeoutMs: opts.timeoutMs ?? 10_000,
      attempts: opts.attempts ?? 3,
      backoffMs: (n) => 200 * 2 ** (n - 1),
    });
  const auth = createKvAuth(opts.auth, transport, opts.now ?? Date.now);
  const where = `KV v2 mount "${mount}" at ${opts.endpoint.addr}`;

  /** One authenticated call; a 403 with AppRole auth logs in again and retries once. */
  async function call(what: string, c: VaultCall, allow404 = false): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const token = await auth.token();
      try {
        return await transport.send({ ...c, token });
      } catch (e) {
        const f = e instanceof VaultCallError ? e.failure : classifyFailure(e);
        if (allow404 && f.kind === 'http' && f.status === 404) return undefined;
        if (attempt === 1 && f.kind === 'http' && f.status === 403 && auth.canRelogin) {
          auth.invalidate();
          continue;
        }
        throw toStorageError(what, f, auth.secrets());
      }
    }
  }

  function toStorageError(what: string, f: VaultCallFailure, secrets: string[]): AppError {
    const reason = scrub(`${what} in ${where} failed: ${describe(f)}`, secrets);
    if (f.kind === 'http' && f.status === 400 && f.errors.some((m) => CAS_MISMATCH.test(m))) {
      return new AppError('CONFLICT', reason, { details: { status: f.status } });
    }
    const details: Record<string, unknown> =
      f.kind === 'http' ? { status: f.status } : { failure: f.kind, code: f.code };
    // Network trouble and 5xx (sealed, standby, overloaded) heal by waiting; 4xx and TLS need a person.
    const transient = f.kind === 'network' || (f.kind === 'http' && f.status >= 500);
    return new AppError('STORAGE_FAILED', reason, {
      details,
      next: transient ? 'retry-later' : 'user',
    });
  }

  function badResponse(what: string): AppError {
    return new AppError('STORAGE_FAILED', `${what} in ${where}: unexpected response from Vault`);
  }

  return {
    async read(path) {
      const what = `reading "${path}"`;
      const body = await call(
        what,
        { method: 'GET', path: `/v1/${mount}/data/${encodePath(path)}` },
        true,
      );
      if (body === undefined) return undefined;
      const r = ReadResponse.safeParse(body);
      if (!r.success) throw badResponse(what);
      // A soft-deleted or destroyed latest version reads as data: null.
      if (r.data.data.data === null) return undefined;
      return { data: r.data.data.data, version: r.data.data.metadata.version };
    },

    async write(path, data, cas) {
      const what = `writing "${path}"`;
      const body = await call(what, {
        method: 'POST',
        path: `/v1/${mount}/data/${encodePath(path)}`,
        body: { data, ...(cas === undefined ? {} : { options: { cas } }) },
        // A retried write could land twice; only retry when it cannot have reached Vault.
        retry: 'connect-only',
      });
      const r = WriteResponse.safeParse(body);
      if (!r.success) throw badResponse(what);
      return r.data.data.version;
    },

    async list(path) {
      const what = `listing "${path}"`;
      const folder = path === '' || path.endsWith('/') ? path : `${path}/`;
      const body = await call(
        what,
        { method: 'LIST', path: `/v1/${mount}/metadata/${encodePath(folder)}` },
        true,
      );
      if (body === undefined) return [];
      const r = ListResponse.safeParse(body);
      if (!r.success) throw badResponse(what);
      return [...r.data.data.keys].sort();
    },

    async deleteAll(path) {
      await call(
        `deleting "${path}"`,
        { method: 'DELETE', path: `/v1/${mount}/metadata/${encodePath(path)}` },
        true,
      );
    },
  };
}
