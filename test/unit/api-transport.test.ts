import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { helpMarkdown, helpText } from '../../src/api/help.js';
import { apiPaths, findPath } from '../../src/api/paths.js';
import { operationOf } from '../../src/http/api-routes.js';
import { createLogger } from '../../src/logging.js';
import { goodBody, makeTestApp, SERVICE_SECRET_ID, TEST_ROOT_TOKEN } from '../helpers/api-app.js';
import { splitVaultErrors } from '../../src/http/envelope.js';

const H = { 'x-vault-token': TEST_ROOT_TOKEN };
const M = '/v1/flant_gitops';

describe('Vault HTTP conventions', () => {
  it("a read answers 200 with Vault's full envelope", async () => {
    const { app } = makeTestApp();
    await app.inject({
      method: 'PUT',
      url: `${M}/configure`,
      headers: H,
      payload: goodBody('configure'),
    });
    const r = await app.inject({ method: 'GET', url: `${M}/configure`, headers: H });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      warnings: null,
      auth: null,
    });
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(body).sort()).toEqual([
      'auth',
      'data',
      'lease_duration',
      'lease_id',
      'renewable',
      'request_id',
      'warnings',
      'wrap_info',
    ]);
  });

  it('writes answer 204 with no body, by PUT and by POST', async () => {
    const { app } = makeTestApp();
    for (const method of ['PUT', 'POST'] as const) {
      const r = await app.inject({
        method,
        url: `${M}/configure/git_credential`,
        headers: H,
        payload: goodBody('git-credential'),
      });
      expect(r.statusCode).toBe(204);
      expect(r.body).toBe('');
    }
  });

  it('a body is JSON whatever its content type (and may be absent)', async () => {
    const { app } = makeTestApp();
    const r1 = await app.inject({
      method: 'PUT',
      url: `${M}/configure/git_credential`,
      headers: { ...H, 'content-type': 'text/plain' },
      payload: JSON.stringify(goodBody('git-credential')),
    });
    expect(r1.statusCode).toBe(204);
    const r2 = await app.inject({
      method: 'PUT',
      url: `${M}/configure/git_credential`,
      headers: H,
    });
    expect(r2.statusCode).toBe(400);
    // Several errors travel as Vault sends them: one go-multierror string, one error per line.
    expect(r2.json()).toEqual({
      errors: ['2 errors occurred:\n\t* username: is required\n\t* password: is required\n\n'],
    });
    expect(splitVaultErrors(r2.json().errors)).toEqual([
      'username: is required',
      'password: is required',
    ]);
    const r3 = await app.inject({
      method: 'PUT',
      url: `${M}/configure/git_credential`,
      headers: { ...H, 'content-type': 'application/json' },
      payload: '{"username":',
    });
    expect(r3.statusCode).toBe(400);
    expect(r3.json()).toEqual({ errors: ['request body is not valid JSON'] });
  });

  it('GET ?list=true lists keys and key_info; an empty list is 404', async () => {
    const { app } = makeTestApp();
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `${M}/configure/vault_request?list=true`,
          headers: H,
        })
      ).statusCode,
    ).toBe(404);
    await app.inject({
      method: 'PUT',
      url: `${M}/configure/vault_request/b`,
      headers: H,
      payload: { path: '/v1/b' },
    });
    await app.inject({
      method: 'PUT',
      url: `${M}/configure/vault_request/a`,
      headers: H,
      payload: goodBody('vault-request'),
    });
    for (const url of [
      `${M}/configure/vault_request?list=true`,
      `${M}/configure/vault_request/?list=true`,
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: H });
      expect(r.statusCode).toBe(200);
      expect(r.json().data).toEqual({
        keys: ['a', 'b'],
        key_info: {
          a: {
            name: 'a',
            path: '/v1/secret/data/app',
            method: 'GET',
            options: { a: 'b' },
            wrap_ttl: 120,
          },
          b: { name: 'b', path: '/v1/b', method: 'GET', options: {}, wrap_ttl: 60 },
        },
      });
    }
  });

  it("the LIST verb maps to list (Node's HTTP parser cannot deliver it; the CLI uses GET ?list=true)", () => {
    expect(operationOf('LIST', {})).toBe('list');
    expect(operationOf('GET', { list: 'true' })).toBe('list');
    expect(operationOf('GET', { list: 'false' })).toBe('read');
    expect(operationOf('GET', { help: '1' })).toBe('help');
    expect(operationOf('PUT', {})).toBe('update');
    expect(operationOf('POST', {})).toBe('update');
    expect(operationOf('DELETE', {})).toBe('delete');
    expect(operationOf('PATCH', {})).toBeUndefined();
  });

  it('trusted keys: write on the collection, names on read and list, details on the item', async () => {
    const { app } = makeTestApp();
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `${M}/configure/trusted_pgp_public_key?list=true`,
          headers: H,
        })
      ).statusCode,
    ).toBe(404);
    await app.inject({
      method: 'PUT',
      url: `${M}/configure/trusted_pgp_public_key`,
      headers: H,
      payload: goodBody('trusted-key'),
    });
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `${M}/configure/trusted_pgp_public_key?list=true`,
          headers: H,
        })
      ).json().data,
    ).toEqual({ keys: ['alice'] });
    expect(
      (
        await app.inject({
          method: 'GET',
          url: `${M}/configure/trusted_pgp_public_key`,
          headers: H,
        })
      ).json().data,
    ).toEqual({ names: ['alice'] });
    const item = (
      await app.inject({
        method: 'GET',
        url: `${M}/configure/trusted_pgp_public_key/alice`,
        headers: H,
      })
    ).json().data;
    expect(item).toMatchObject({
      name: 'alice',
      public_key: goodBody('trusted-key').public_key,
      fingerprint: 'A'.repeat(40),
      user_ids: ['Alice <alice@example.com>'],
      expires: null,
    });
  });

  it('?help=1 answers {"help": …} from the descriptor, for every path', async () => {
    const { app } = makeTestApp();
    for (const [url, d] of <[string, string][]>[
      ['configure', 'configure'],
      ['configure/vault_request', 'configure/vault_request/?'],
      ['configure/vault_request/x', 'configure/vault_request/(?<name>[^/]+)'],
      ['configure_vault_access', 'configure_vault_access'],
      ['configure/trusted_pgp_public_key', 'configure/trusted_pgp_public_key/?'],
      ['configure/trusted_pgp_public_key/x', 'configure/trusted_pgp_public_key/(?<name>[^/]+)'],
      ['configure/git_credential', 'configure/git_credential'],
      ['configure/git_ssh_key', 'configure/git_ssh_key'],
    ]) {
      const r = await app.inject({ method: 'GET', url: `${M}/${url}?help=1`, headers: H });
      expect(r.statusCode).toBe(200);
      const descriptor = findPath(url)?.descriptor;
      expect(descriptor?.pattern).toBe(d);
      expect(r.json()).toEqual({ help: helpText(descriptor!, `flant_gitops/${url}`) });
      expect(r.json().help).toContain(descriptor!.synopsis);
    }
  });

  it('help text and the reference section name every field with its type and default', () => {
    for (const d of apiPaths) {
      const text = helpText(d);
      const md = helpMarkdown(d, d.pattern);
      for (const [name, spec] of Object.entries(d.fields)) {
        expect(text).toContain(`${name} (${spec.type}`);
        expect(md).toContain(`| \`${name}\` | ${spec.type} |`);
      }
    }
    expect(helpText(findPath('configure/vault_request/x')!.descriptor)).toContain(
      'wrap_ttl (duration, default 1m)',
    );
  });

  it.each([
    ['an unknown path', 'GET', `${M}/nope`, 404, { errors: [] }],
    ['an unknown mount', 'GET', '/v1/other/configure', 404, { errors: [] }],
    ['no /v1 at all', 'GET', '/elsewhere', 404, { errors: [] }],
    [
      'a path without that operation',
      'DELETE',
      `${M}/configure/vault_request`,
      405,
      { errors: ['unsupported operation delete on this path'] },
    ],
    [
      'a list of a path that cannot list',
      'GET',
      `${M}/configure?list=true`,
      405,
      { errors: ['unsupported operation list on this path'] },
    ],
    [
      'an unsupported method',
      'PATCH',
      `${M}/configure`,
      405,
      { errors: ['unsupported method PATCH'] },
    ],
    ['a malformed URL', 'GET', `${M}/configure/vault_request/%E0%A4%A`, 400, undefined],
    ['a read of a missing object', 'GET', `${M}/configure`, 404, { errors: [] }],
    ['a bad name in a path', 'GET', `${M}/configure/vault_request/a%20b`, 400, undefined],
  ] as const)('%s → %d', async (_n, method, url, status, body) => {
    const { app } = makeTestApp();
    const r = await app.inject({ method, url, headers: H });
    expect(r.statusCode).toBe(status);
    if (body) expect(r.json()).toEqual(body);
    else expect(r.json().errors).toHaveLength(1);
  });

  it('GET /healthz answers 200 without a token', async () => {
    const r = await makeTestApp().app.inject({ method: 'GET', url: '/healthz' });
    expect(r.statusCode).toBe(200);
  });

  it('several mounts keep separate configurations', async () => {
    const { app } = makeTestApp({ mounts: ['flant_gitops', 'flant-gitops'] });
    await app.inject({
      method: 'PUT',
      url: '/v1/flant-gitops/configure/git_credential',
      headers: H,
      payload: goodBody('git-credential'),
    });
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/flant-gitops/configure/git_credential',
          headers: H,
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/flant_gitops/configure/git_credential',
          headers: H,
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('authentication', () => {
  it.each([
    ['no token', {}],
    ['a wrong X-Vault-Token', { 'x-vault-token': 'wrong-token' }],
    ['a wrong bearer token', { authorization: 'Bearer wrong-token' }],
    ['the root token with a suffix', { 'x-vault-token': `${TEST_ROOT_TOKEN}x` }],
    ['a basic auth header', { authorization: `Basic ${TEST_ROOT_TOKEN}` }],
  ])(
    '%s → 403 permission denied on reads, writes, lists, help and unknown paths, storing nothing',
    async (_n, headers) => {
      const t = makeTestApp();
      const before = await t.snapshot();
      for (const [method, url] of [
        ['GET', `${M}/configure`],
        ['PUT', `${M}/configure`],
        ['DELETE', `${M}/configure`],
        ['GET', `${M}/configure/vault_request?list=true`],
        ['GET', `${M}/configure?help=1`],
        ['GET', `${M}/nope`],
      ] as const) {
        const r = await t.app.inject({
          method,
          url,
          headers,
          ...(method === 'PUT' ? { payload: goodBody('configure') } : {}),
        });
        expect(r.statusCode, `${method} ${url}`).toBe(403);
        expect(r.json()).toEqual({ errors: ['permission denied'] });
      }
      expect(await t.snapshot()).toBe(before);
    },
  );

  it('the root token works as X-Vault-Token and as Authorization: Bearer', async () => {
    const { app } = makeTestApp();
    for (const headers of [H, { authorization: `Bearer ${TEST_ROOT_TOKEN}` }]) {
      expect(
        (
          await app.inject({
            method: 'PUT',
            url: `${M}/configure`,
            headers,
            payload: goodBody('configure'),
          })
        ).statusCode,
      ).toBe(204);
    }
  });
});

describe('secrets never leave through reads or logs', () => {
  const SECRETS = [
    String(goodBody('vault-access').secret_id),
    SERVICE_SECRET_ID,
    String(goodBody('git-credential').password),
    'ssh-private-key-material-4b9a',
    TEST_ROOT_TOKEN,
  ];

  it('no read, list or help answer contains a secret id, password, private key or token', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', destination });
    const { app } = makeTestApp({ logger });
    const writes: [string, Record<string, unknown>][] = [
      ['configure', goodBody('configure')],
      ['configure/vault_request/app', goodBody('vault-request')],
      ['configure_vault_access', goodBody('vault-access')],
      ['configure/trusted_pgp_public_key', goodBody('trusted-key')],
      ['configure/git_credential', goodBody('git-credential')],
      ['configure/git_ssh_key', goodBody('git-ssh-key')],
    ];
    for (const [path, body] of writes) {
      expect(
        (await app.inject({ method: 'PUT', url: `${M}/${path}`, headers: H, payload: body }))
          .statusCode,
      ).toBe(204);
      // A refused write that echoes nothing of the body either.
      await app.inject({
        method: 'PUT',
        url: `${M}/${path}`,
        headers: H,
        payload: { ...body, bogus: 1 },
      });
    }
    const answers: string[] = [];
    for (const path of [...writes.map(([p]) => p), 'configure/trusted_pgp_public_key/alice']) {
      for (const q of ['', '?list=true', '?help=1']) {
        answers.push(
          (await app.inject({ method: 'GET', url: `${M}/${path}${q}`, headers: H })).body,
        );
      }
    }
    const access = JSON.parse(answers[6]!).data as Record<string, unknown>;
    expect(access).not.toHaveProperty('secret_id');
    expect(access).toMatchObject({ role_id: 'role-id-1111', role_name: 'flant-gitops' });
    expect(JSON.parse(answers[12]!).data).toEqual({ username: 'deployer' });
    expect(JSON.parse(answers[15]!).data).toEqual({
      private_key_set: true,
      known_hosts: goodBody('git-ssh-key').known_hosts,
    });
    const all = answers.join('\n');
    const log = lines.join('');
    expect(log).toContain('api request');
    for (const s of SECRETS) {
      expect(all, `answers contain ${s}`).not.toContain(s);
      expect(log, `log contains ${s}`).not.toContain(s);
    }
    expect(all).not.toMatch(/"(secret_id|password|private_key)"/);
  });
});
