/**
 * The Vault endpoints the service uses, in our own types: AppRole login and secret-id
 * management, token renew/revoke, and wrapped requests. Each call's failure is an AppError naming
 * the step; no token, secret id or wrapping token is ever part of a message.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { VaultAccessConfig, VaultRequestConfig, WrappedToken } from './types.js';
import { requestTokenEnvName } from '../config/rules/env-name.js';
import { vaultFailure } from './failures.js';
import type { VaultTransport } from './transport.js';

/** A token from login or renewal; `ttl` in seconds as Vault reported it. */
export interface LoginToken {
  readonly token: string;
  readonly ttl: number;
  readonly renewable: boolean;
}

/** The AppRole and token operations the access service composes (faked in unit tests). */
export interface AppRoleApi {
  login(secretId: string): Promise<LoginToken>;
  /**
   * Mint a new secret id for our role with `ttlSeconds` (the configured secret_id_ttl, so that
   * rotation at 10 % of it is meaningful; Vault refuses a TTL above the role's own). Returns it
   * and the TTL Vault gave it (0 = none).
   */
  mintSecretId(token: string, ttlSeconds: number): Promise<{ secretId: string; ttl: number }>;
  destroySecretId(token: string, secretId: string): Promise<void>;
  renewSelf(token: string, incrementSeconds: number): Promise<LoginToken>;
  revokeSelf(token: string): Promise<void>;
  wrapped(token: string, req: VaultRequestConfig): Promise<WrappedToken>;
}

const AuthResponse = z.looseObject({
  auth: z.looseObject({
    client_token: z.string().min(1),
    lease_duration: z.number().int().nonnegative(),
    renewable: z.boolean(),
  }),
});

const SecretIdResponse = z.looseObject({
  data: z.looseObject({
    secret_id: z.string().min(1),
    secret_id_ttl: z.number().int().nonnegative().optional(),
  }),
});

const WrapResponse = z.looseObject({
  wrap_info: z.looseObject({
    token: z.string().min(1),
    accessor: z.string().default(''),
    ttl: z.number().int().nonnegative(),
  }),
});

/** `auth/approle/` → `auth/approle`. */
export function normalizeMount(mount: string): string {
  return mount.replace(/^\/+|\/+$/g, '');
}

/** The AppRole API of one configured access, over one transport. */
export function createAppRoleApi(cfg: VaultAccessConfig, transport: VaultTransport): AppRoleApi {
  const mount = normalizeMount(cfg.approle_mount_point);
  const role = encodeURIComponent(cfg.role_name);
  const roleDesc = `role "${cfg.role_name}" at ${mount}`;

  function parseAuth(what: string, body: unknown): LoginToken {
    const r = AuthResponse.safeParse(body);
    if (!r.success) throw new AppError('VAULT_REQUEST_FAILED', `${what}: Vault returned no token`);
    const a = r.data.auth;
    return { token: a.client_token, ttl: a.lease_duration, renewable: a.renewable };
  }

  return {
    async login(secretId) {
      const what = `AppRole login (${roleDesc})`;
      const body = await transport
        .send({
          method: 'POST',
          path: `/v1/${mount}/login`,
          body: { role_id: cfg.role_id, secret_id: secretId },
        })
        .catch((e: unknown) => {
          throw vaultFailure(what, e, [secretId, cfg.role_id]);
        });
      return parseAuth(what, body);
    },

    async mintSecretId(token, ttlSeconds) {
      const what = `minting a secret id (${roleDesc}; the policy must allow update on ${mount}/role/${cfg.role_name}/secret-id)`;
      const body = await transport
        .send({
          method: 'POST',
          path: `/v1/${mount}/role/${role}/secret-id`,
          token,
          ...(ttlSeconds > 0 ? { body: { ttl: ttlSeconds } } : {}),
          retry: 'connect-only',
        })
        .catch((e: unknown) => {
          throw vaultFailure(what, e, [token]);
        });
      const r = SecretIdResponse.safeParse(body);
      if (!r.success)
        throw new AppError('VAULT_REQUEST_FAILED', `${what}: Vault returned no secret id`);
      return { secretId: r.data.data.secret_id, ttl: r.data.data.secret_id_ttl ?? 0 };
    },

    async destroySecretId(token, secretId) {
      const what = `destroying the previous secret id (${roleDesc})`;
      await transport
        .send({
          method: 'POST',
          path: `/v1/${mount}/role/${role}/secret-id/destroy`,
          token,
          body: { secret_id: secretId },
        })
        .catch((e: unknown) => {
          throw vaultFailure(what, e, [token, secretId]);
        });
    },

    async renewSelf(token, incrementSeconds) {
      const what = 'renewing the service token';
      const body = await transport
        .send({
          method: 'POST',
          path: '/v1/auth/token/renew-self',
          token,
          body: { increment: incrementSeconds },
        })
        .catch((e: unknown) => {
          throw vaultFailure(what, e, [token]);
        });
      return parseAuth(what, body);
    },

    async revokeSelf(token) {
      await transport
        .send({ method: 'POST', path: '/v1/auth/token/revoke-self', token })
        .catch((e: unknown) => {
          throw vaultFailure('revoking a service token', e, [token]);
        });
    },

    async wrapped(token, req) {
      const what = `vault request "${req.name}" (${req.method} ${req.path})`;
      const idempotent = req.method === 'GET' || req.method === 'LIST';
      const body = await transport
        .send({
          method: req.method,
          path: req.path,
          token,
          body: req.options,
          wrapTtl: req.wrap_ttl,
          retry: idempotent ? 'all' : 'connect-only',
        })
        .catch((e: unknown) => {
          throw vaultFailure(what, e, [token]);
        });
      const r = WrapResponse.safeParse(body);
      if (!r.success) {
        throw new AppError(
          'VAULT_REQUEST_FAILED',
          `${what} failed: the response has no wrap_info (Vault wraps only responses that carry data)`,
          { details: { request: req.name }, next: 'user' },
        );
      }
      const w = r.data.wrap_info;
      return {
        name: req.name,
        envName: requestTokenEnvName(req.name),
        token: w.token,
        ttl: w.ttl,
        accessor: w.accessor,
      };
    },
  };
}
