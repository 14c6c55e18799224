import { beforeEach, describe, expect, it } from 'vitest';
import { splitVaultErrors } from '../../src/http/envelope.js';
import { goodBody, makeTestApp, TEST_ROOT_TOKEN, type TestApp } from '../helpers/api-app.js';
import { validationSuite, type ValidationTransport } from '../helpers/api-validation-suite.js';
import { SEEDS } from '../helpers/api-validation-table.js';

const H = { 'x-vault-token': TEST_ROOT_TOKEN };

let t: TestApp;

/** A fresh app where every SEEDS path holds its good body. */
async function seededApp(): Promise<TestApp> {
  const app = makeTestApp();
  for (const [path, name] of SEEDS) {
    const r = await app.app.inject({
      method: 'PUT',
      url: `/v1/flant_gitops/${path}`,
      headers: H,
      payload: goodBody(name),
    });
    expect(r.statusCode, `${path}: ${r.body}`).toBe(204);
  }
  return app;
}

/** The HTTP service as a transport of the shared validation table (fakes of our interfaces). */
const http: ValidationTransport = {
  services: 'fake',
  async prepare() {
    t = await seededApp();
  },
  async write(path, body) {
    const r = await t.app.inject({
      method: 'PUT',
      url: `/v1/flant_gitops/${path}`,
      headers: H,
      payload: JSON.stringify(body),
    });
    return {
      status: r.statusCode,
      errors:
        r.statusCode === 204 ? [] : splitVaultErrors((r.json() as { errors: string[] }).errors),
    };
  },
  async list(path) {
    const r = await t.app.inject({
      method: 'GET',
      url: `/v1/flant_gitops/${path}?list=true`,
      headers: H,
    });
    return r.statusCode === 200 ? (r.json() as { data: { keys: string[] } }).data.keys : [];
  },
  snapshot: () => t.snapshot(),
};

describe('a write that breaks a rule is refused with 400, names field and rule, and stores nothing', () => {
  validationSuite(
    () => http,
    () => goodBody,
  );
});

describe('a good write replaces the whole stored object, with defaults for absent fields', () => {
  beforeEach(async () => {
    t = await seededApp();
  });

  it('configure stores normalised values and defaults', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/v1/flant_gitops/configure',
      headers: H,
      payload: {
        ...goodBody('configure'),
        git_poll_period: '1h30m',
        required_number_of_verified_signatures_on_commit: '2',
        commands: 'a, b ,c',
      },
    });
    await t.app.inject({
      method: 'PUT',
      url: '/v1/flant_gitops/configure',
      headers: H,
      payload: goodBody('configure'),
    });
    const r = await t.app.inject({ method: 'GET', url: '/v1/flant_gitops/configure', headers: H });
    expect(r.json().data).toEqual({
      ...goodBody('configure'),
      git_branch_name: 'main',
      git_poll_period: 300,
      required_number_of_verified_signatures_on_commit: 0,
      initial_last_successful_commit: '',
      commands: ['./script.sh'],
    });
  });

  it('vault requests store upper-case methods, seconds and options objects', async () => {
    const r = await t.app.inject({
      method: 'GET',
      url: '/v1/flant_gitops/configure/vault_request/app',
      headers: H,
    });
    expect(r.json().data).toEqual({
      name: 'app',
      path: '/v1/secret/data/app',
      method: 'GET',
      wrap_ttl: 120,
      options: { a: 'b' },
    });
  });

  it('vault access goes through the access service, trims the mount and stores its own secret id', async () => {
    const stored = await t.store.get('mounts/flant_gitops/configure_vault_access');
    expect(stored?.value).toMatchObject({
      approle_mount_point: 'auth/approle',
      vault_addr: 'https://vault.example.com:8200',
      secret_id_ttl: 7200,
      token_ttl: 30,
      vault_cacert: '',
      secret_id: 'service-own-secret-id-77aa21',
    });
  });

  it.each([
    'configure',
    'configure/vault_request/app',
    'configure_vault_access',
    'configure/trusted_pgp_public_key/alice',
    'configure/git_credential',
    'configure/git_ssh_key',
  ])('delete of %s removes it (then a read is 404 with no errors)', async (path) => {
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/flant_gitops/${path}`, headers: H }))
        .statusCode,
    ).toBe(204);
    const r = await t.app.inject({ method: 'GET', url: `/v1/flant_gitops/${path}`, headers: H });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ errors: [] });
  });
});
