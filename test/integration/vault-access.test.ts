/**
 * The service's AppRole identity and wrapped requests against the shared, real OpenBao: configure
 * swaps the operator's secret id for ours, rotation keeps access across restarts, wrapped
 * requests unwrap with the real `bao` CLI, failures name the request, and no secret reaches a log.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { createVaultAccessService } from '../../src/vault/access.js';
import type { VaultAccessConfig, VaultRequestConfig } from '../../src/vault/types.js';
import { bao } from '../helpers/openbao.js';
import { freePort } from '../helpers/net.js';

const target = inject('openbao');
const id = randomBytes(4).toString('hex');
const mount = `auth/approle-${id}`;
const kv = `fg-${id}`;
const TTL = 3600;

/** Everything secret we have seen; the log scan asserts none of it was logged. */
const secrets = new Set<string>();
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});
/** The injected clock: tests move it forward to trigger rotation. */
let clock = Date.now();
const now = () => clock;

async function must(args: string[], stdin?: string): Promise<string> {
  const r = await bao(target, args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function operatorSecretId(): Promise<string> {
  const s = await must(['write', '-f', '-field=secret_id', `${mount}/role/r/secret-id`]);
  secrets.add(s);
  return s;
}

async function logsIn(secretId: string): Promise<boolean> {
  const r = await bao(target, [
    'write',
    '-format=json',
    `${mount}/login`,
    `role_id=${roleId}`,
    `secret_id=${secretId}`,
  ]);
  if (r.code === 0) secrets.add(JSON.parse(r.stdout).auth.client_token as string);
  return r.code === 0;
}

let roleId = '';
let stored: VaultAccessConfig | undefined;
const load = async () => stored;
const save = async (c: VaultAccessConfig) => {
  secrets.add(c.secret_id);
  stored = c;
};
const req = (
  r: Partial<VaultRequestConfig> & Pick<VaultRequestConfig, 'path'>,
): VaultRequestConfig => ({
  name: 'req',
  method: 'GET',
  options: {},
  wrap_ttl: 120,
  ...r,
});

beforeAll(async () => {
  await must(['auth', 'enable', `-path=${mount.slice('auth/'.length)}`, 'approle']);
  await must(
    ['policy', 'write', `fg-${id}`, '-'],
    `path "${mount}/role/r/secret-id" { capabilities = ["update"] }
path "${mount}/role/r/secret-id/destroy" { capabilities = ["update"] }
path "secret/data/${kv}/*" { capabilities = ["read"] }
path "secret/metadata/${kv}/*" { capabilities = ["list"] }
path "nomount-${id}/*" { capabilities = ["read"] }`,
  );
  await must([
    'write',
    `${mount}/role/r`,
    `token_policies=fg-${id}`,
    'token_ttl=60',
    'token_max_ttl=600',
    `secret_id_ttl=${2 * TTL}`,
  ]);
  await must(['kv', 'put', `secret/${kv}/app`, 'password=hunter2-' + id, 'user=app']);
  roleId = await must(['read', '-field=role_id', `${mount}/role/r/role-id`]);
});

function baseConfig(secretId: string): VaultAccessConfig {
  return {
    vault_addr: target.addr,
    vault_tls_server_name: 'localhost',
    vault_cacert: '',
    role_name: 'r',
    role_id: roleId,
    secret_id: secretId,
    secret_id_ttl: TTL,
    approle_mount_point: `${mount}/`,
    token_ttl: 30,
  };
}

/** Lets each describe run alone (vitest -t): configure once if no test did yet. */
async function ensureConfigured(): Promise<void> {
  if (!stored)
    await createVaultAccessService({ logger, now }).configure(
      baseConfig(await operatorSecretId()),
      save,
    );
}

async function wrappedGetWorks(svc = createVaultAccessService({ logger, now })): Promise<void> {
  const client = await svc.client(load, save);
  const w = await client.wrappedRequest(req({ name: 'app', path: `/v1/secret/data/${kv}/app` }));
  secrets.add(w.token);
  const out = await bao(target, ['unwrap', '-format=json', w.token]);
  expect(out.code).toBe(0);
  expect(JSON.parse(out.stdout).data.data).toEqual({ password: 'hunter2-' + id, user: 'app' });
}

describe('configure_vault_access', () => {
  it("replaces the operator's secret id with the service's own: the old one no longer logs in", async () => {
    const operator = await operatorSecretId();
    const svc = createVaultAccessService({ logger, now });
    await svc.configure(baseConfig(operator), save);
    expect(stored?.secret_id).toBeTruthy();
    expect(stored?.secret_id).not.toBe(operator);
    expect(stored?.secret_id_issued_at).toBe(new Date(clock).toISOString());
    expect(stored?.role_id).toBe(roleId);
    await must(['write', '-f', `${mount}/tidy/secret-id`]);
    expect(await logsIn(operator)).toBe(false);
    expect(await logsIn(stored!.secret_id)).toBe(true);
    const lookup = await must([
      'write',
      '-format=json',
      `${mount}/role/r/secret-id/lookup`,
      `secret_id=${stored!.secret_id}`,
    ]);
    expect(JSON.parse(lookup).data.secret_id_ttl).toBe(TTL); // minted with secret_id_ttl, not the role's 2×
    await wrappedGetWorks(svc);
  });

  it("rejects a secret_id_ttl above the role's: invalid input with Vault's message, operator id intact", async () => {
    const operator = await operatorSecretId();
    const svc = createVaultAccessService({ logger, now });
    let saved = false;
    const err = await svc
      .configure({ ...baseConfig(operator), secret_id_ttl: 4 * TTL }, async () => {
        saved = true;
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAppError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toMatch(
      /^minting a secret id .* failed: Vault answered HTTP 400: ttl cannot be longer than the role's secret_id_ttl/,
    );
    expect(saved).toBe(false);
    expect(await logsIn(operator)).toBe(true);
  });

  it('rejects a wrong secret id as invalid input, naming the login, storing nothing', async () => {
    const svc = createVaultAccessService({ logger, now });
    let saved = false;
    const wrong = '00000000-1111-2222-3333-444444444444';
    const err = await svc
      .configure(baseConfig(wrong), async () => {
        saved = true;
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAppError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toMatch(
      /^AppRole login \(role "r" at auth\/approle-\w+\) failed: Vault answered HTTP 400: invalid role or secret ID/,
    );
    expect((err as Error).message).not.toContain(wrong);
    expect(saved).toBe(false);
  });

  it('fails as unreachable for a closed loopback port, storing nothing', async () => {
    const port = await freePort();
    const svc = createVaultAccessService({ logger, now, attempts: 2 });
    let saved = false;
    const err = await svc
      .configure(
        { ...baseConfig(await operatorSecretId()), vault_addr: `http://127.0.0.1:${port}` },
        async () => {
          saved = true;
        },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAppError(err, 'VAULT_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /^AppRole login .* failed: Vault is unreachable \(ECONNREFUSED\)/,
    );
    expect(saved).toBe(false);
  });
});

describe('secret id rotation (injected clock)', () => {
  beforeAll(ensureConfigured);

  it('three rotations in a row keep access; each old secret id stops logging in', async () => {
    const svc = createVaultAccessService({ logger, now });
    for (let i = 0; i < 3; i++) {
      const before = stored!.secret_id;
      clock += TTL * 100 + 1_000; // a bit more than 10 % of secret_id_ttl, in ms
      await wrappedGetWorks(svc);
      expect(stored!.secret_id).not.toBe(before);
      expect(stored!.secret_id_issued_at).toBe(new Date(clock).toISOString());
      expect(await logsIn(before)).toBe(false);
      expect(await logsIn(stored!.secret_id)).toBe(true);
    }
  });

  it('does not rotate before 10 % of secret_id_ttl has passed', async () => {
    const before = stored!.secret_id;
    clock += TTL * 100 - 1_000;
    await wrappedGetWorks();
    expect(stored!.secret_id).toBe(before);
  });

  it('three rotations across restarts: each new service instance reads the saved config', async () => {
    for (let i = 0; i < 3; i++) {
      const before = stored!.secret_id;
      clock += TTL * 100 + 1_000;
      await wrappedGetWorks(createVaultAccessService({ logger, now }));
      expect(stored!.secret_id).not.toBe(before);
      expect(await logsIn(before)).toBe(false);
    }
    await wrappedGetWorks(createVaultAccessService({ logger, now }));
  });

  it('keeps the current secret id when storing the rotated one fails', async () => {
    const before = stored!;
    clock += TTL * 100 + 1_000;
    const svc = createVaultAccessService({ logger, now });
    const client = await svc.client(load, async () => {
      throw new Error('disk full');
    });
    expect(stored).toBe(before);
    expect(await logsIn(before.secret_id)).toBe(true);
    const w = await client.wrappedRequest(req({ path: `/v1/secret/data/${kv}/app` }));
    secrets.add(w.token);
    expect((await bao(target, ['unwrap', w.token])).code).toBe(0);
    await wrappedGetWorks(); // and the next client rotates for real
    expect(stored!.secret_id).not.toBe(before.secret_id);
  });
});

describe('token lifecycle (injected clock)', () => {
  beforeAll(ensureConfigured);

  const count = (msg: string) => logLines.filter((l) => l.includes(`"msg":"${msg}"`)).length;

  it('renews the token (renew-self, asking for token_ttl) past half its life, logs in again near expiry', async () => {
    const svc = createVaultAccessService({ logger, now });
    await wrappedGetWorks(svc);
    const renewed = count('vault token renewed');
    const logins = count('logged in to vault');
    clock += 16_000; // token_ttl is 30 s: past half
    await wrappedGetWorks(svc);
    expect(count('vault token renewed')).toBe(renewed + 1);
    expect(count('logged in to vault')).toBe(logins);
    const last = JSON.parse(logLines.filter((l) => l.includes('vault token renewed')).at(-1)!);
    expect(last.ttl).toBe(30);
    clock += 40_000; // past our idea of its expiry
    await wrappedGetWorks(svc);
    expect(count('logged in to vault')).toBe(logins + 1);
  });
});

describe('wrapped requests (docs/compat.md, "Vault requests")', () => {
  beforeAll(ensureConfigured);

  it('GET: the token unwraps once to the secret, with the configured TTL and env name', async () => {
    const client = await createVaultAccessService({ logger, now }).client(load, save);
    const w = await client.wrappedRequest(
      req({ name: 'db-main.creds', path: `/v1/secret/data/${kv}/app`, wrap_ttl: 300 }),
    );
    secrets.add(w.token);
    expect(w.envName).toBe('VAULT_REQUEST_TOKEN_DB_MAIN_CREDS');
    expect(w.ttl).toBe(300);
    const lookup = await bao(target, [
      'write',
      '-format=json',
      'sys/wrapping/lookup',
      `token=${w.token}`,
    ]);
    expect(lookup.code).toBe(0);
    expect(JSON.parse(lookup.stdout).data.creation_ttl).toBe(300);
    const first = await bao({ addr: target.addr, token: w.token }, ['unwrap', '-format=json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).data.data.user).toBe('app');
    const second = await bao(target, ['unwrap', w.token]);
    expect(second.code).not.toBe(0);
  });

  it('LIST is sent with the LIST verb and wrapped', async () => {
    const client = await createVaultAccessService({ logger, now }).client(load, save);
    const w = await client.wrappedRequest(
      req({ name: 'keys', method: 'LIST', path: `/v1/secret/metadata/${kv}/` }),
    );
    secrets.add(w.token);
    const out = await bao(target, ['unwrap', '-format=json', w.token]);
    expect(out.code).toBe(0);
    // the CLI prints a wrapped list as the bare list of keys
    expect(JSON.parse(out.stdout)).toEqual(['app']);
  });

  it('POST sends options as the JSON body', async () => {
    const client = await createVaultAccessService({ logger, now }).client(load, save);
    const w = await client.wrappedRequest(
      req({ name: 'wrap', method: 'POST', path: '/v1/sys/wrapping/wrap', options: { a: 'b' } }),
    );
    secrets.add(w.token);
    const out = await bao(target, ['unwrap', '-format=json', w.token]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).data).toEqual({ a: 'b' });
  });

  const failures: { name: string; r: VaultRequestConfig; message: RegExp }[] = [
    {
      name: 'a wrong path fails with 404 and no handler',
      r: req({ name: 'wrong', path: `/v1/nomount-${id}/x` }),
      message:
        /^vault request "wrong" \(GET \/v1\/nomount-\w+\/x\) failed: Vault answered HTTP 404: .*no handler for route/,
    },
    {
      name: 'a denied path fails with 403 permission denied',
      r: req({ name: 'denied', path: '/v1/secret/data/other' }),
      message:
        /^vault request "denied" \(GET \/v1\/secret\/data\/other\) failed: Vault answered HTTP 403: permission denied$/,
    },
    {
      name: 'a response without wrap_info (204 of a destroy) fails, not crashes',
      r: req({
        name: 'nodata',
        method: 'POST',
        path: `/v1/${mount}/role/r/secret-id/destroy`,
        options: { secret_id: '00000000-0000-0000-0000-000000000000' },
      }),
      message:
        /^vault request "nodata" \(POST \/v1\/auth\/approle-\w+\/role\/r\/secret-id\/destroy\) failed: the response has no wrap_info/,
    },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      const client = await createVaultAccessService({ logger, now }).client(load, save);
      const err = await client.wrappedRequest(f.r).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(err, 'VAULT_REQUEST_FAILED')).toBe(true);
      expect((err as Error).message).toMatch(f.message);
    });
  }
});

describe('logs', () => {
  it('never contain a secret id, token or wrapping token', () => {
    const text = logLines.join('');
    expect(text).toContain('vault access configured');
    expect(text).toContain('secret id rotated');
    expect(text).toContain('wrapped vault request done');
    expect(secrets.size).toBeGreaterThan(10);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/\b(s|hvs|hvb|b)\.[A-Za-z0-9]{20,}/);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });
});
