/**
 * The order of the access service's steps, against a fake of our own AppRoleApi: whatever fails
 * (or wherever the process dies), a working secret id stays stored and nothing is destroyed
 * before its replacement is stored.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import type { AppRoleApi } from '../../src/vault/approle.js';
import { createVaultAccessService } from '../../src/vault/access.js';
import type { VaultAccessConfig } from '../../src/vault/types.js';

type Step = 'login' | 'mint' | 'destroy' | 'renew' | 'revoke' | 'wrapped';

/** A fake target Vault: valid secret ids, a call log, and steps told to fail. */
function fakeVault(failing: Partial<Record<Step, AppError>> = {}) {
  const valid = new Set(['operator-sid']);
  const calls: string[] = [];
  let n = 0;
  const fail = (s: Step) => {
    const e = failing[s];
    if (e) throw e;
  };
  const api: AppRoleApi = {
    async login(sid) {
      calls.push(`login ${sid}`);
      fail('login');
      if (!valid.has(sid))
        throw new AppError('VAULT_REQUEST_FAILED', 'AppRole login failed: HTTP 400', {
          next: 'user',
        });
      return { token: `tok-${++n}`, ttl: 60, renewable: true };
    },
    async mintSecretId(token) {
      calls.push(`mint with ${token}`);
      fail('mint');
      const sid = `sid-${++n}`;
      valid.add(sid);
      return { secretId: sid, ttl: 3600 };
    },
    async destroySecretId(token, sid) {
      calls.push(`destroy ${sid} with ${token}`);
      fail('destroy');
      valid.delete(sid);
    },
    async renewSelf(token) {
      calls.push(`renew ${token}`);
      fail('renew');
      return { token, ttl: 60, renewable: true };
    },
    async revokeSelf(token) {
      calls.push(`revoke ${token}`);
      fail('revoke');
    },
    async wrapped(token, req) {
      calls.push(`wrapped ${req.name} with ${token}`);
      fail('wrapped');
      return { name: req.name, envName: 'E', token: 'wrap', ttl: req.wrap_ttl, accessor: 'a' };
    },
  };
  return { api, calls, valid };
}

const cfg: VaultAccessConfig = {
  vault_addr: 'http://127.0.0.1:1',
  vault_tls_server_name: 'vault',
  vault_cacert: '',
  role_name: 'r',
  role_id: 'rid',
  secret_id: 'operator-sid',
  secret_id_ttl: 3600,
  approle_mount_point: 'auth/approle',
  token_ttl: 60,
};
const T0 = Date.parse('2030-01-01T00:00:00Z');
const req = { name: 'q', path: '/v1/x', method: 'GET', options: {}, wrap_ttl: 60 } as const;

function setup(failing: Partial<Record<Step, AppError>> = {}) {
  const v = fakeVault(failing);
  let clock = T0;
  let stored: VaultAccessConfig | undefined;
  const svc = createVaultAccessService({
    logger: silentLogger(),
    now: () => clock,
    connect: () => v.api,
  });
  return {
    ...v,
    svc,
    advance: (ms: number) => (clock += ms),
    get stored() {
      return stored;
    },
    load: async () => stored,
    save: async (c: VaultAccessConfig) => {
      stored = c;
    },
  };
}

const boom = new AppError('VAULT_REQUEST_FAILED', 'boom');

describe('configure', () => {
  it('logs in, mints, stores, revokes the operator token, logs in with ours, destroys the operator id', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    expect(f.calls).toEqual([
      'login operator-sid',
      'mint with tok-1',
      'revoke tok-1',
      'login sid-2',
      'destroy operator-sid with tok-3',
    ]);
    expect(f.stored).toEqual({
      ...cfg,
      secret_id: 'sid-2',
      secret_id_issued_at: new Date(T0).toISOString(),
    });
  });

  it('stores nothing and reports invalid input when the operator secret id is wrong', async () => {
    const f = setup();
    const err = await f.svc
      .configure({ ...cfg, secret_id: 'nope' }, f.save)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    expect(f.stored).toBeUndefined();
  });

  it('destroys nothing of the operator when storing fails', async () => {
    const f = setup();
    const err = await f.svc
      .configure(cfg, async () => {
        throw new AppError('STORAGE_FAILED', 'disk');
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_FAILED' });
    expect(f.valid.has('operator-sid')).toBe(true);
    expect(f.calls.filter((c) => c.startsWith('destroy operator-sid'))).toEqual([]);
  });

  it('succeeds when destroying the operator id fails (logged, not fatal)', async () => {
    const f = setup({ destroy: boom });
    await f.svc.configure(cfg, f.save);
    expect(f.stored?.secret_id).toBe('sid-2');
  });
});

describe('client', () => {
  it('needs a stored configuration', async () => {
    const f = setup();
    await expect(f.svc.client(f.load, f.save)).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
  });

  it('rotates only after 10 % of secret_id_ttl: mint → login → store → revoke old → destroy old', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    f.calls.length = 0;
    f.advance(300_000);
    await (await f.svc.client(f.load, f.save)).wrappedRequest(req);
    expect(f.calls.some((c) => c.startsWith('mint'))).toBe(false);
    f.calls.length = 0;
    f.advance(61_000 + 10_000); // token treated as expired too
    await (await f.svc.client(f.load, f.save)).wrappedRequest(req);
    expect(f.calls).toEqual([
      'login sid-2',
      'mint with tok-5',
      'login sid-6',
      'revoke tok-5',
      'destroy sid-2 with tok-7',
      'wrapped q with tok-7',
    ]);
    expect(f.stored?.secret_id).toBe('sid-6');
    expect(f.stored?.secret_id_issued_at).toBe(new Date(T0 + 371_000).toISOString());
  });

  it('renews a token past half its life instead of logging in', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    f.calls.length = 0;
    f.advance(35_000);
    await (await f.svc.client(f.load, f.save)).wrappedRequest(req);
    expect(f.calls).toEqual(['renew tok-3', 'wrapped q with tok-3']);
  });

  it('logs in again when renewal fails', async () => {
    const f = setup({ renew: boom });
    await f.svc.configure(cfg, f.save);
    f.calls.length = 0;
    f.advance(35_000);
    await (await f.svc.client(f.load, f.save)).wrappedRequest(req);
    expect(f.calls).toEqual(['renew tok-3', 'login sid-2', 'wrapped q with tok-4']);
  });

  it('keeps the old secret id stored and valid when storing the new one fails', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    f.advance(400_000);
    const client = await f.svc.client(f.load, async () => {
      throw new Error('disk full');
    });
    expect(f.stored?.secret_id).toBe('sid-2');
    expect(f.valid.has('sid-2')).toBe(true);
    await expect(client.wrappedRequest(req)).resolves.toMatchObject({ name: 'q' });
  });

  it('keeps the old secret id when minting fails', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    const svc = createVaultAccessService({
      logger: silentLogger(),
      now: () => T0 + 400_000,
      connect: () => ({ ...f.api, mintSecretId: () => Promise.reject(boom) }),
    });
    await (await svc.client(f.load, f.save)).wrappedRequest(req);
    expect(f.stored?.secret_id).toBe('sid-2');
    expect(f.valid.has('sid-2')).toBe(true);
  });

  it('a fresh instance (restart) picks up the stored secret id and its minting time', async () => {
    const f = setup();
    await f.svc.configure(cfg, f.save);
    const again = createVaultAccessService({
      logger: silentLogger(),
      now: () => T0 + 1_000,
      connect: () => f.api,
    });
    f.calls.length = 0;
    await (await again.client(f.load, f.save)).wrappedRequest(req);
    expect(f.calls).toEqual(['login sid-2', 'wrapped q with tok-4']);
  });
});
