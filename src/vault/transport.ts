/**
 * The one place that talks HTTP to the target Vault, over node-vault (and nothing else imports
 * node-vault). It pins TLS (our CA, our server name), applies a timeout per request, retries
 * transient failures a few times, and turns every failure into a VaultCallError of our own that
 * carries no header, no token and no request body.
 */
import { Agent } from 'node:https';
// node-vault (with axios, ~8 MiB resident) is loaded on the first call to a target Vault, not at
// start-up: an idle service never needs it. Only its type is imported statically.
import type nodeVault from 'node-vault';

type NodeVaultClient = ReturnType<typeof nodeVault>;

/** HTTP verbs the service sends (LIST is Vault's own verb; OpenBao wraps it like GET). */
export type VaultMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'LIST';

/** One call to the target Vault. `path` is the full API path, e.g. `/v1/auth/approle/login`. */
export interface VaultCall {
  readonly method: VaultMethod;
  readonly path: string;
  readonly token?: string;
  readonly body?: Readonly<Record<string, unknown>>;
  /** Seconds; sets `X-Vault-Wrap-TTL`. */
  readonly wrapTtl?: number;
  /**
   * `all`: retry network errors, timeouts and 5xx. `connect-only`: retry only when the request
   * cannot have reached Vault (connection refused / host not found) — for calls with side effects.
   */
  readonly retry?: 'all' | 'connect-only';
}

/** Why a call failed, without anything secret. */
export type VaultCallFailure =
  | { readonly kind: 'http'; readonly status: number; readonly errors: readonly string[] }
  | { readonly kind: 'network'; readonly code: string; readonly message: string }
  | { readonly kind: 'tls'; readonly code: string; readonly message: string };

/** A failed call; `failure` says how (Vault's own messages for HTTP errors). */
export class VaultCallError extends Error {
  readonly failure: VaultCallFailure;
  constructor(failure: VaultCallFailure) {
    super(
      failure.kind === 'http'
        ? `HTTP ${failure.status}${failure.errors.length ? `: ${failure.errors.join('; ')}` : ''}`
        : failure.message,
    );
    this.name = 'VaultCallError';
    this.failure = failure;
  }
}

/** Connection settings of the target Vault. */
export interface VaultEndpoint {
  readonly addr: string;
  /** PEM of the CA that signs Vault's certificate; empty = the system's CAs. */
  readonly caPem: string;
  /** Name checked against the certificate and sent as SNI; empty = the host of `addr`. */
  readonly serverName: string;
}

/** Sends calls to one target Vault. */
export interface VaultTransport {
  /** The response body of a 200/204 (undefined for 204); throws VaultCallError otherwise. */
  send(call: VaultCall): Promise<unknown>;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const NETWORK_CODES = new Set([
  ...CONNECT_CODES,
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
]);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

/** Go's multierror text (`1 error occurred:\n\t* permission denied\n\n`) → its items, one line each. */
export function flattenMessage(text: string): string[] {
  const body = text.replace(/^\s*\d+ errors? occurred:\s*/, '');
  return body
    .split(/\n\s*\*\s+|\n+/)
    .map((s) =>
      s
        .replace(/^\s*\*\s+/, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((s) => s.length > 0);
}

/** Classify whatever node-vault / axios threw into a secret-free failure. */
export function classifyFailure(e: unknown): VaultCallFailure {
  const err = (e ?? {}) as {
    response?: { statusCode?: unknown; body?: unknown };
    code?: unknown;
    message?: unknown;
  };
  if (err.response && typeof err.response.statusCode === 'number') {
    const body = err.response.body as { errors?: unknown } | undefined;
    const errors = Array.isArray(body?.errors)
      ? body.errors.flatMap((x) => flattenMessage(String(x)))
      : [];
    return { kind: 'http', status: err.response.statusCode, errors };
  }
  const code = typeof err.code === 'string' ? err.code : 'UNKNOWN';
  const message = typeof err.message === 'string' ? err.message : 'unknown error';
  return TLS_CODE.test(code) ? { kind: 'tls', code, message } : { kind: 'network', code, message };
}

function retryable(f: VaultCallFailure, mode: 'all' | 'connect-only'): boolean {
  if (f.kind === 'tls') return false;
  if (f.kind === 'network')
    return mode === 'all' ? NETWORK_CODES.has(f.code) : CONNECT_CODES.has(f.code);
  return mode === 'all' && f.status >= 500;
}

/** Options of the transport: per-request timeout and a small, bounded retry. */
export interface TransportOptions {
  readonly timeoutMs: number;
  /** Total attempts (≥ 1). */
  readonly attempts: number;
  /** Delay before retry n (1-based), in ms. */
  readonly backoffMs: (retry: number) => number;
}

/** Split `/v1/a/b` into node-vault's apiVersion (`v1`) and the rest (`/a/b`), sending it as is. */
export function splitApiPath(path: string): { apiVersion: string; rest: string } {
  const m = /^\/([^/?]+)(.*)$/.exec(path);
  if (!m?.[1]) return { apiVersion: 'v1', rest: path.startsWith('/') ? path : `/${path}` };
  return { apiVersion: m[1], rest: m[2] ?? '' };
}

/** Build the transport for one endpoint (one https.Agent with our CA and server name). */
export function createVaultTransport(ep: VaultEndpoint, opts: TransportOptions): VaultTransport {
  const httpsAgent = new Agent({
    keepAlive: false,
    ...(ep.caPem ? { ca: ep.caPem } : {}),
    ...(ep.serverName ? { servername: ep.serverName } : {}),
  });
  let loaded: Promise<NodeVaultClient> | undefined;
  const clientOf = (): Promise<NodeVaultClient> =>
    (loaded ??= import('node-vault').then(({ default: create }) => {
      const c = create({ endpoint: ep.addr.replace(/\/+$/, '') });
      // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from the process
      // environment; the target Vault must only ever see what we send explicitly.
      Object.assign(c, { token: '', namespace: '', pathPrefix: '' });
      return c;
    }));

  async function once(call: VaultCall): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (call.token) headers['X-Vault-Token'] = call.token;
    if (call.wrapTtl !== undefined) headers['X-Vault-Wrap-TTL'] = String(call.wrapTtl);
    const { apiVersion, rest } = splitApiPath(call.path);
    const client = await clientOf();
    // Set synchronously right before request(), which reads it synchronously: no interleaving.
    client.apiVersion = apiVersion;
    const body = call.body && Object.keys(call.body).length > 0 ? { ...call.body } : undefined;
    return client.request({
      method: call.method,
      path: rest,
      headers,
      httpsAgent,
      timeout: opts.timeoutMs,
      ...(body ? { json: body } : {}),
    }) as Promise<unknown>;
  }

  return {
    async send(call) {
      const mode = call.retry ?? 'all';
      for (let attempt = 1; ; attempt++) {
        try {
          return await once(call);
        } catch (e) {
          const failure = classifyFailure(e);
          if (attempt >= opts.attempts || !retryable(failure, mode))
            throw new VaultCallError(failure);
          await new Promise((r) => setTimeout(r, opts.backoffMs(attempt)));
        }
      }
    },
  };
}
