/**
 * The service's AppRole identity on the target Vault: configure() swaps the operator's secret id
 * for one only we know; client() keeps a token alive (renew or log in again before it expires)
 * and rotates the secret id when more than 10 % of `secret_id_ttl` has passed. Every step that
 * could lose access is ordered so a crash or failure at any point leaves a working secret id
 * stored: mint → prove it logs in → store → only then revoke/destroy the old one.
 *
 * `token_ttl`: AppRole login takes no TTL, so we ask for it on renew-self (`increment`) and treat
 * the token as living min(Vault's lease, token_ttl) — never longer than the operator allowed.
 */
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../logging.js';
import { createAppRoleApi, normalizeMount, type AppRoleApi, type LoginToken } from './approle.js';
import { effectiveTtl, rotationDue, tokenAction, type TokenState } from './lifecycle.js';
import { createVaultTransport } from './transport.js';
import type {
  SecretsClient,
  VaultAccessConfig,
  VaultAccessService,
  VaultRequestConfig,
  WrappedToken,
} from './types.js';

/** Dependencies and knobs; `now` and `connect` let tests drive the clock and fake the API. */
export interface VaultAccessServiceOptions {
  readonly logger: Logger;
  /** ms since the epoch; drives token lifetimes and secret-id rotation. */
  readonly now?: () => number;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** Attempts per request for transient failures (default 3). */
  readonly attempts?: number;
  /** Build the API for one access config (default: node-vault over the configured TLS). */
  readonly connect?: (cfg: VaultAccessConfig) => AppRoleApi;
}

interface Session {
  cfg: VaultAccessConfig;
  readonly api: AppRoleApi;
  token: string;
  state: TokenState;
}

function sameIdentity(a: VaultAccessConfig, b: VaultAccessConfig): boolean {
  return (
    a.vault_addr === b.vault_addr &&
    a.vault_cacert === b.vault_cacert &&
    a.vault_tls_server_name === b.vault_tls_server_name &&
    normalizeMount(a.approle_mount_point) === normalizeMount(b.approle_mount_point) &&
    a.role_name === b.role_name &&
    a.role_id === b.role_id &&
    a.secret_id === b.secret_id &&
    a.token_ttl === b.token_ttl
  );
}

/** 4xx from the target Vault during configure means the operator's input is wrong. */
function asInvalidInput(e: unknown): unknown {
  if (isAppError(e, 'VAULT_REQUEST_FAILED') && e.next === 'user') {
    return new AppError('INVALID_INPUT', e.reason, e.details ? { details: { ...e.details } } : {});
  }
  return e;
}

/** Build the access service of one mount (state lives in this instance, nowhere else). */
export function createVaultAccessService(opts: VaultAccessServiceOptions): VaultAccessService {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: 'vault-access' });
  const connect =
    opts.connect ??
    ((cfg: VaultAccessConfig) =>
      createAppRoleApi(
        cfg,
        createVaultTransport(
          { addr: cfg.vault_addr, caPem: cfg.vault_cacert, serverName: cfg.vault_tls_server_name },
          {
            timeoutMs: opts.timeoutMs ?? 10_000,
            attempts: opts.attempts ?? 3,
            backoffMs: (n) => 200 * 2 ** (n - 1),
          },
        ),
      ));
  let session: Session | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** One operation at a time: rotation and renewal mutate the session. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = queue.then(fn, fn);
    queue = p.catch(() => undefined);
    return p;
  }

  const where = (cfg: VaultAccessConfig) => ({
    vault_addr: cfg.vault_addr,
    mount: normalizeMount(cfg.approle_mount_point),
    role: cfg.role_name,
  });

  function stateOf(cfg: VaultAccessConfig, t: LoginToken): TokenState {
    const at = now();
    return {
      obtainedAt: at,
      expiresAt: at + effectiveTtl(t.ttl, cfg.token_ttl) * 1000,
      renewable: t.renewable,
    };
  }

  async function bestEffort(
    what: string,
    cfg: VaultAccessConfig,
    fn: () => Promise<void>,
  ): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const reason = e instanceof AppError ? e.reason : 'unexpected error';
      log.warn({ ...where(cfg), step: what, reason }, 'vault cleanup step failed; continuing');
    }
  }

  async function newSession(cfg: VaultAccessConfig, api = connect(cfg)): Promise<Session> {
    const t = await api.login(cfg.secret_id);
    log.info({ ...where(cfg), ttl: effectiveTtl(t.ttl, cfg.token_ttl) }, 'logged in to vault');
    return { cfg, api, token: t.token, state: stateOf(cfg, t) };
  }

  async function refresh(s: Session): Promise<void> {
    const action = tokenAction(s.state, now());
    if (action === 'use') return;
    if (action === 'renew') {
      try {
        const t = await s.api.renewSelf(s.token, s.cfg.token_ttl);
        s.state = stateOf(s.cfg, t);
        log.debug(
          { ...where(s.cfg), ttl: effectiveTtl(t.ttl, s.cfg.token_ttl) },
          'vault token renewed',
        );
        return;
      } catch (e) {
        const reason = e instanceof AppError ? e.reason : 'unexpected error';
        log.warn({ ...where(s.cfg), reason }, 'vault token renewal failed; logging in again');
      }
    }
    const t = await s.api.login(s.cfg.secret_id);
    s.token = t.token;
    s.state = stateOf(s.cfg, t);
    log.info({ ...where(s.cfg), ttl: effectiveTtl(t.ttl, s.cfg.token_ttl) }, 'logged in to vault');
  }

  /** Mint → log in with it → store → revoke old token → destroy old secret id. */
  async function rotate(s: Session, save: (c: VaultAccessConfig) => Promise<void>): Promise<void> {
    const old = s.cfg;
    const oldToken = s.token;
    let minted: { secretId: string; ttl: number };
    let fresh: LoginToken;
    try {
      minted = await s.api.mintSecretId(s.token, old.secret_id_ttl);
    } catch (e) {
      const reason = e instanceof AppError ? e.reason : 'unexpected error';
      log.error(
        { ...where(old), reason },
        'secret id rotation failed; keeping the current secret id',
      );
      return;
    }
    try {
      fresh = await s.api.login(minted.secretId);
    } catch (e) {
      const reason = e instanceof AppError ? e.reason : 'unexpected error';
      log.error(
        { ...where(old), reason },
        'new secret id does not log in; keeping the current one',
      );
      await bestEffort('destroy unused secret id', old, () =>
        s.api.destroySecretId(oldToken, minted.secretId),
      );
      return;
    }
    const next: VaultAccessConfig = {
      ...old,
      secret_id: minted.secretId,
      secret_id_issued_at: new Date(now()).toISOString(),
    };
    try {
      await save(next);
    } catch (e) {
      const reason = e instanceof Error ? e.message : 'unexpected error';
      log.error(
        { ...where(old), reason },
        'storing the rotated secret id failed; keeping the current one',
      );
      await bestEffort('revoke unused token', old, () => s.api.revokeSelf(fresh.token));
      await bestEffort('destroy unused secret id', old, () =>
        s.api.destroySecretId(oldToken, minted.secretId),
      );
      return;
    }
    s.cfg = next;
    s.token = fresh.token;
    s.state = stateOf(next, fresh);
    await bestEffort('revoke previous token', next, () => s.api.revokeSelf(oldToken));
    await bestEffort('destroy previous secret id', next, () =>
      s.api.destroySecretId(fresh.token, old.secret_id),
    );
    log.info({ ...where(next), secret_id_ttl: old.secret_id_ttl }, 'secret id rotated');
  }

  async function configure(
    cfg: VaultAccessConfig,
    save: (stored: VaultAccessConfig) => Promise<void>,
  ): Promise<void> {
    const api = connect(cfg);
    const operator = await api.login(cfg.secret_id).catch((e: unknown) => {
      throw asInvalidInput(e);
    });
    let minted: { secretId: string; ttl: number };
    try {
      minted = await api.mintSecretId(operator.token, cfg.secret_id_ttl);
    } catch (e) {
      await bestEffort('revoke operator-login token', cfg, () => api.revokeSelf(operator.token));
      throw asInvalidInput(e);
    }
    const stored: VaultAccessConfig = {
      ...cfg,
      secret_id: minted.secretId,
      secret_id_issued_at: new Date(now()).toISOString(),
    };
    try {
      await save(stored);
    } catch (e) {
      await bestEffort('destroy unused secret id', cfg, () =>
        api.destroySecretId(operator.token, minted.secretId),
      );
      await bestEffort('revoke operator-login token', cfg, () => api.revokeSelf(operator.token));
      throw e;
    }
    await bestEffort('revoke operator-login token', cfg, () => api.revokeSelf(operator.token));
    const s = await newSession(stored, api);
    await bestEffort("destroy the operator's secret id", stored, () =>
      api.destroySecretId(s.token, cfg.secret_id),
    );
    session = s;
    log.info({ ...where(stored), secret_id_ttl: stored.secret_id_ttl }, 'vault access configured');
  }

  async function wrappedRequest(s: Session, req: VaultRequestConfig): Promise<WrappedToken> {
    await refresh(s);
    const w = await s.api.wrapped(s.token, req);
    log.info(
      { ...where(s.cfg), request: req.name, method: req.method, path: req.path, ttl: w.ttl },
      'wrapped vault request done',
    );
    return w;
  }

  return {
    configure: (cfg, save) => exclusive(() => configure(cfg, save)),
    client: (load, save) =>
      exclusive(async () => {
        const cfg = await load();
        if (!cfg) {
          throw new AppError(
            'NOT_CONFIGURED',
            'configure_vault_access is not set: vault requests need AppRole access to the target Vault',
          );
        }
        let s = session && sameIdentity(session.cfg, cfg) ? session : undefined;
        if (s) {
          s.cfg = cfg; // same identity: take the stored minting time as authoritative
          await refresh(s);
        } else s = session = await newSession(cfg);
        if (rotationDue(s.cfg.secret_id_issued_at, s.cfg.secret_id_ttl, now()))
          await rotate(s, save);
        const bound = s;
        const client: SecretsClient = {
          wrappedRequest: (req) => exclusive(() => wrappedRequest(bound, req)),
        };
        return client;
      }),
  };
}
