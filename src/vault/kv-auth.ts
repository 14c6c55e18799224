/**
 * How the KV client authenticates: a fixed token, or an AppRole (role id + secret id) that it
 * logs in with and keeps alive — renewing after half the token's life, logging in again near the
 * end or after a 403 — using the same clock rules as the target-Vault identity (lifecycle.ts).
 * Tokens and secret ids stay inside this module's closure; errors never contain them.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { scrub } from './failures.js';
import { effectiveTtl, tokenAction, type TokenState } from './lifecycle.js';
import { VaultCallError, classifyFailure, type VaultTransport } from './transport.js';

/** Credentials of the storage identity. */
export type KvAuth =
  | { readonly kind: 'token'; readonly token: string }
  | {
      readonly kind: 'approle';
      /** Auth mount, default `auth/approle`. */
      readonly mount?: string;
      readonly roleId: string;
      readonly secretId: string;
      /** Cap on the token's lifetime in seconds and the renew increment (0 = Vault's). */
      readonly tokenTtl?: number;
    };

/** The token source the client calls before every request. */
export interface KvTokenSource {
  token(): Promise<string>;
  /** Forget the current token (after a 403) so the next token() logs in again. */
  invalidate(): void;
  /** True when invalidate() can lead to a different token (AppRole). */
  readonly canRelogin: boolean;
  /** Every secret this source knows, for scrubbing error text. */
  secrets(): string[];
}

const AuthResponse = z.looseObject({
  auth: z.looseObject({
    client_token: z.string().min(1),
    lease_duration: z.number().int().nonnegative(),
    renewable: z.boolean(),
  }),
});

/** Build the token source for `auth` over `transport`. */
export function createKvAuth(
  auth: KvAuth,
  transport: VaultTransport,
  now: () => number,
): KvTokenSource {
  if (auth.kind === 'token') {
    return {
      token: async () => auth.token,
      invalidate: () => undefined,
      canRelogin: false,
      secrets: () => [auth.token],
    };
  }
  const { roleId, secretId } = auth;
  const mount = (auth.mount ?? 'auth/approle').replace(/^\/+|\/+$/g, '');
  const tokenTtl = auth.tokenTtl ?? 0;
  let current: { token: string; state: TokenState } | undefined;
  let pending: Promise<string> | undefined;
  const known = (): string[] => [secretId, roleId, ...(current ? [current.token] : [])];

  function accept(body: unknown, what: string): string {
    const r = AuthResponse.safeParse(body);
    if (!r.success) throw new AppError('STORAGE_FAILED', `${what}: Vault returned no token`);
    const a = r.data.auth;
    const t = now();
    const ttl = effectiveTtl(a.lease_duration, tokenTtl);
    current = {
      token: a.client_token,
      state: { obtainedAt: t, expiresAt: ttl > 0 ? t + ttl * 1000 : t, renewable: a.renewable },
    };
    return a.client_token;
  }

  async function login(): Promise<string> {
    const what = `storage AppRole login at ${mount}`;
    try {
      const body = await transport.send({
        method: 'POST',
        path: `/v1/${mount}/login`,
        body: { role_id: roleId, secret_id: secretId },
      });
      return accept(body, what);
    } catch (e) {
      if (e instanceof AppError) throw e;
      const f = e instanceof VaultCallError ? e.failure : classifyFailure(e);
      const text =
        f.kind === 'http'
          ? `HTTP ${f.status}${f.errors.length ? `: ${f.errors.join('; ')}` : ''}`
          : `${f.kind} (${f.code}): ${f.message}`;
      const transient = f.kind === 'network' || (f.kind === 'http' && f.status >= 500);
      throw new AppError('STORAGE_FAILED', scrub(`${what} failed: ${text}`, known()), {
        details: f.kind === 'http' ? { status: f.status } : { failure: f.kind, code: f.code },
        next: transient ? 'retry-later' : 'user',
      });
    }
  }

  async function refresh(): Promise<string> {
    const action = tokenAction(current?.state, now());
    if (current && action === 'use') return current.token;
    if (current && action === 'renew') {
      try {
        const body = await transport.send({
          method: 'POST',
          path: '/v1/auth/token/renew-self',
          token: current.token,
          ...(tokenTtl > 0 ? { body: { increment: tokenTtl } } : {}),
        });
        return accept(body, 'storage token renewal');
      } catch {
        // Renewal refused (max TTL reached, token revoked): a fresh login is the remedy.
      }
    }
    return login();
  }

  return {
    token() {
      if (current && tokenAction(current.state, now()) === 'use') {
        return Promise.resolve(current.token);
      }
      // Single flight: concurrent calls share one renewal or login.
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      current = undefined;
    },
    canRelogin: true,
    secrets: known,
  };
}
