/**
 * Who may call the /v1 API. Every request carries a token (`X-Vault-Token` or
 * `Authorization: Bearer`); an Authorizer decides whether that token may perform the operation
 * on `<mount>/<path>`. Two modes: embedded (one root token kept in a 0600 file, compared in
 * constant time) and delegated (the caller's own token is asked about on a real Vault with
 * `sys/capabilities-self`, so operators keep using Vault policies). Nothing is cached.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { TokenDescription } from './vault-wire.js';

/** What is being asked: `help` is a path-help request (allowed with any capability). */
export type AuthOperation = 'read' | 'list' | 'update' | 'delete' | 'help';

/** One authorization question. */
export interface AuthRequest {
  /** The caller's token, or undefined when none was sent. */
  readonly token: string | undefined;
  readonly mount: string;
  /** Path below the mount, as requested (may end with '/'). */
  readonly path: string;
  readonly operation: AuthOperation;
}

/** Decides a request; throws AppError PERMISSION_DENIED (403) or VAULT_UNREACHABLE (502). */
export interface Authorizer {
  authorize(req: AuthRequest): Promise<void>;
}

/** The token of a request from its headers (X-Vault-Token wins over Authorization: Bearer). */
export function tokenFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const first = (v: string | string[] | undefined): string | undefined =>
    Array.isArray(v) ? v[0] : v;
  const vt = first(headers['x-vault-token'])?.trim();
  if (vt) return vt;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(first(headers['authorization']) ?? '');
  return m?.[1];
}

function denied(): AppError {
  return new AppError('PERMISSION_DENIED', 'permission denied');
}

/** Constant-time string equality (both sides hashed first, so lengths do not leak either). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Embedded mode: the root token may do everything, anything else nothing. It also describes the
 * root token for `auth/token/lookup-self` (src/http/vault-wire.ts), as Vault describes its own.
 */
export function createRootTokenAuthorizer(
  rootToken: string,
): Authorizer & { describeToken(token: string): TokenDescription | undefined } {
  if (rootToken.length < 16) throw new AppError('INTERNAL', 'root token is too short');
  const creationTime = Math.floor(Date.now() / 1000);
  return {
    async authorize(req) {
      if (req.token === undefined || !tokensEqual(req.token, rootToken)) throw denied();
    },
    describeToken(token) {
      if (!tokensEqual(token, rootToken)) return undefined;
      return { policies: ['root'], displayName: 'root', path: 'auth/token/root', creationTime };
    },
  };
}

/**
 * Read the root token from `file`, or create it (32 random bytes, hex, mode 0600) when absent.
 * Logs the file's path, never the token.
 */
export async function loadOrCreateRootToken(file: string, logger: Logger): Promise<string> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length < 16) {
      throw new AppError('NOT_CONFIGURED', 'the root token file holds fewer than 16 characters', {
        details: { file },
      });
    }
    logger.info({ file }, 'root token loaded');
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(32).toString('hex');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' });
  logger.info({ file }, 'root token created');
  return token;
}

/** Capabilities each operation needs (any one of them); root and sudo allow everything. */
const NEEDED: Readonly<Record<AuthOperation, readonly string[]>> = {
  read: ['read'],
  list: ['list'],
  update: ['update', 'create'],
  delete: ['delete'],
  help: ['read', 'list', 'update', 'create', 'delete'],
};

/** Options of the delegated authorizer. */
export interface DelegatedAuthorizerOptions {
  /** The Vault/OpenBao that knows the callers' tokens, e.g. https://vault.example.com:8200. */
  readonly vaultAddr: string;
  readonly logger: Logger;
  /** Per-call timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Injected for tests of our own code; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The paths asked about: a list also counts a policy written for the path with a trailing '/'. */
function policyPaths(req: AuthRequest): string[] {
  const base = `${req.mount}/${req.path.replace(/\/+$/, '')}`;
  return req.operation === 'list' || req.operation === 'help' ? [base, `${base}/`] : [base];
}

/** Delegated mode: `POST /v1/sys/capabilities-self` with the caller's token, one call per request. */
export function createDelegatedAuthorizer(opts: DelegatedAuthorizerOptions): Authorizer {
  const doFetch = opts.fetch ?? fetch;
  const url = `${opts.vaultAddr.replace(/\/+$/, '')}/v1/sys/capabilities-self`;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  return {
    async authorize(req) {
      if (req.token === undefined || req.token === '') throw denied();
      const paths = policyPaths(req);
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'X-Vault-Token': req.token, 'Content-Type': 'application/json' },
          body: JSON.stringify({ paths }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        opts.logger.warn(
          { vaultAddr: opts.vaultAddr, error: (e as Error).name },
          'authorizing vault unreachable',
        );
        throw new AppError('VAULT_UNREACHABLE', 'cannot reach the authorizing Vault');
      }
      if (res.status === 403 || res.status === 401 || res.status === 400) throw denied();
      if (!res.ok) {
        opts.logger.warn(
          { vaultAddr: opts.vaultAddr, status: res.status },
          'authorizing vault failed',
        );
        throw new AppError('VAULT_REQUEST_FAILED', 'the authorizing Vault failed to answer');
      }
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const data = (typeof body.data === 'object' && body.data !== null ? body.data : {}) as Record<
        string,
        unknown
      >;
      const needed = NEEDED[req.operation];
      const allowed = paths.some((p) => {
        const caps = data[p] ?? body[p];
        if (!Array.isArray(caps)) return false;
        if (caps.includes('deny')) return false;
        return caps.some((c) => c === 'root' || c === 'sudo' || needed.includes(String(c)));
      });
      if (!allowed) throw denied();
    },
  };
}
