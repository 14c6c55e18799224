/**
 * The Vault KV v2 store against the shared, real OpenBao: the same contract as the file store,
 * check-and-set races, AppRole auth, the mapping of Vault's failures to our codes, and an
 * OpenBao that goes away mid-test (clear STORAGE_FAILED, data written before stays intact).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { updateWithCas } from '../../src/storage/store.js';
import { openVaultKvStore } from '../../src/storage/vault-kv-store.js';
import { createKvClient, type KvAuth, type KvClient } from '../../src/vault/kv-client.js';
import { bao, startOpenBao, type OpenBao } from '../helpers/openbao.js';
import { storeContract } from '../helpers/store-contract.js';

const target = inject('openbao');
const id = randomBytes(4).toString('hex');
const mount = `fg-kv-${id}`;

async function must(t: { addr: string; token: string }, args: string[], stdin?: string) {
  const r = await bao(t, args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

function client(auth: KvAuth = { kind: 'token', token: target.token }, addr = target.addr) {
  return createKvClient({ endpoint: { addr, caPem: '', serverName: '' }, mount, auth });
}

const fresh = () => `t-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  await must(target, ['secrets', 'enable', `-path=${mount}`, 'kv-v2']);
});
afterAll(async () => {
  await bao(target, ['secrets', 'disable', mount]);
});

describe('Vault KV v2 store: the shared store contract', () => {
  storeContract(async () => openVaultKvStore({ client: client(), prefix: `contract/${fresh()}` }));
});

describe('Vault KV v2 store on a real OpenBao', () => {
  it('keeps each value as { value } at <prefix>/<key>, readable with the bao CLI', async () => {
    const prefix = `layout/${fresh()}`;
    const s = openVaultKvStore({ client: client(), prefix });
    await s.put('mounts/m1/configuration', { git_branch_name: 'main' });
    const out = await must(target, [
      'kv',
      'get',
      '-format=json',
      `${mount}/${prefix}/mounts/m1/configuration`,
    ]);
    const parsed = JSON.parse(out) as { data: { data: unknown; metadata: { version: number } } };
    expect(parsed.data.data).toEqual({ value: { git_branch_name: 'main' } });
    expect(parsed.data.metadata.version).toBe(1);
  });

  it('ten concurrent updateWithCas increments from separate clients end at 10', async () => {
    const prefix = `race/${fresh()}`;
    const stores = Array.from({ length: 10 }, () => openVaultKvStore({ client: client(), prefix }));
    await Promise.all(
      stores.map((s) => updateWithCas<number>(s, 'counter', (n) => (n ?? 0) + 1, 50)),
    );
    expect(await stores[0]?.get('counter')).toEqual({ value: 10, version: 10 });
  });

  it('maps a KV check-and-set mismatch to CONFLICT and a wrong token to STORAGE_FAILED', async () => {
    const kv: KvClient = client();
    const path = `errors/${fresh()}`;
    expect(await kv.write(path, { value: 1 }, 0)).toBe(1);
    await expect(kv.write(path, { value: 2 }, 0)).rejects.toSatisfy(
      (e) => isAppError(e, 'CONFLICT') && e.next === 'retry-now',
    );
    const wrongToken = 'not-a-real-token-' + id;
    const denied = await client({ kind: 'token', token: wrongToken })
      .read(path)
      .catch((e: unknown) => e);
    expect(isAppError(denied, 'STORAGE_FAILED')).toBe(true);
    expect((denied as Error).message).toMatch(/HTTP 403/);
    expect((denied as Error).message).not.toContain(wrongToken);
  });

  it('a secret not written by the service is reported, not misread', async () => {
    const prefix = `foreign/${fresh()}`;
    await must(target, ['kv', 'put', `${mount}/${prefix}/configuration`, 'other=1']);
    const s = openVaultKvStore({ client: client(), prefix });
    await expect(s.get('configuration')).rejects.toSatisfy((e) => isAppError(e, 'STORAGE_FAILED'));
  });

  it('authenticates with an AppRole and never puts the secret id in an error', async () => {
    const approle = `approle-kv-${id}`;
    const policy = `fg-kv-${id}`;
    await must(target, ['auth', 'enable', `-path=${approle}`, 'approle']);
    try {
      await must(
        target,
        ['policy', 'write', policy, '-'],
        `path "${mount}/data/ar/*" { capabilities = ["create","read","update"] }\n` +
          `path "${mount}/metadata/ar/*" { capabilities = ["list","delete"] }\n`,
      );
      await must(target, [
        'write',
        `auth/${approle}/role/kv`,
        `token_policies=${policy}`,
        'token_ttl=60',
      ]);
      const roleId = await must(target, [
        'read',
        '-field=role_id',
        `auth/${approle}/role/kv/role-id`,
      ]);
      const secretId = await must(target, [
        'write',
        '-f',
        '-field=secret_id',
        `auth/${approle}/role/kv/secret-id`,
      ]);
      let t = Date.now();
      const s = openVaultKvStore({
        client: createKvClient({
          endpoint: { addr: target.addr, caPem: '', serverName: '' },
          mount,
          auth: { kind: 'approle', mount: `auth/${approle}`, roleId, secretId, tokenTtl: 60 },
          now: () => t,
        }),
        prefix: 'ar',
      });
      await s.put('k', { ok: true });
      expect(await s.get('k')).toEqual({ value: { ok: true }, version: 1 });
      expect(await s.list('')).toEqual(['k']);
      // Past half the token's life: renewed with renew-self, and still working.
      t += 35_000;
      expect(await s.put('k', { ok: 2 })).toBe(2);
      // Every token of the role revoked behind our back: the 403 leads to a fresh login.
      await must(target, ['lease', 'revoke', '-prefix', `auth/${approle}/login`]);
      expect(await s.put('k', { ok: 3 })).toBe(3);
      // Outside the policy: a clear STORAGE_FAILED that needs a person.
      const outside = openVaultKvStore({
        client: client({ kind: 'approle', mount: `auth/${approle}`, roleId, secretId }),
        prefix: 'elsewhere',
      });
      const e = await outside.put('k', 1).catch((x: unknown) => x);
      expect(isAppError(e, 'STORAGE_FAILED') && e.next === 'user').toBe(true);
      const bad = client({
        kind: 'approle',
        mount: `auth/${approle}`,
        roleId,
        secretId: `${secretId}x`,
      });
      const loginErr = await bad.read('ar/k').catch((x: unknown) => x);
      expect(isAppError(loginErr, 'STORAGE_FAILED')).toBe(true);
      expect(
        JSON.stringify({
          m: (loginErr as Error).message,
          d: (loginErr as { details?: unknown }).details,
        }),
      ).not.toContain(secretId);
    } finally {
      await bao(target, ['auth', 'disable', approle]);
      await bao(target, ['policy', 'delete', policy]);
    }
  });
});

describe('Vault KV v2 store when OpenBao goes away', () => {
  let own: OpenBao | undefined;
  afterAll(async () => {
    await own?.stop();
  });

  it('fails with a clear, retryable STORAGE_FAILED and corrupts nothing', async () => {
    own = await startOpenBao({ token: `own-${id}` });
    const ownTarget = { addr: own.addr, token: own.token };
    await must(ownTarget, ['secrets', 'enable', `-path=${mount}`, 'kv-v2']);
    const opts = { endpoint: { addr: own.addr, caPem: '', serverName: '' }, mount, attempts: 2 };
    const ownStore = openVaultKvStore({
      client: createKvClient({ ...opts, auth: { kind: 'token', token: own.token } }),
      prefix: 'svc',
    });
    await ownStore.put('configuration', { v: 1 });
    // The same data on the shared server, written through the same code path.
    const sharedPrefix = `outage/${fresh()}`;
    const shared = openVaultKvStore({ client: client(), prefix: sharedPrefix });
    await shared.put('configuration', { v: 1 });

    await own.stop();
    own = undefined;

    for (const op of [
      () => ownStore.get('configuration'),
      () => ownStore.put('configuration', { v: 2 }, { cas: 1 }),
      () => ownStore.list(''),
      () => ownStore.delete('configuration'),
    ]) {
      const e = await op().catch((x: unknown) => x);
      expect(isAppError(e, 'STORAGE_FAILED')).toBe(true);
      expect((e as { next?: string }).next).toBe('retry-later');
      expect((e as Error).message).toMatch(/unreachable \(ECONNREFUSED\)/);
      expect((e as Error).message).not.toContain(`own-${id}`);
    }
    // A new client against a server that is still up reads what was written before, intact.
    const again = openVaultKvStore({ client: client(), prefix: sharedPrefix });
    expect(await again.get('configuration')).toEqual({ value: { v: 1 }, version: 1 });
  });
});
