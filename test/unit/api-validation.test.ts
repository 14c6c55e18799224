import { beforeEach, describe, expect, it } from 'vitest';
import { splitVaultErrors } from '../../src/http/envelope.js';
import { goodBody, makeTestApp, TEST_ROOT_TOKEN, type TestApp } from '../helpers/api-app.js';

const H = { 'x-vault-token': TEST_ROOT_TOKEN };

/** Writes that must be refused: path, body, and messages (prefixes) that must all be present. */
const BAD: readonly [string, string, Record<string, unknown>, readonly string[]][] = [
  // configure
  [
    'configure without git_repo_url',
    'configure',
    { ...goodBody('configure'), git_repo_url: undefined },
    ['git_repo_url: is required'],
  ],
  [
    'configure with a git URL that is not one',
    'configure',
    { ...goodBody('configure'), git_repo_url: 'not a url' },
    ['git_repo_url: must be a git URL'],
  ],
  [
    'configure with a password inside the git URL',
    'configure',
    { ...goodBody('configure'), git_repo_url: 'https://deployer:hunter2@git.example.com/a.git' },
    ['git_repo_url: must not carry a password'],
  ],
  [
    'configure with a remote-helper URL (ext:: runs commands)',
    'configure',
    { ...goodBody('configure'), git_repo_url: 'ext::sh -c touch% /tmp/pwned' },
    ['git_repo_url: must be a git URL'],
  ],
  [
    'configure with a branch name git refuses',
    'configure',
    { ...goodBody('configure'), git_branch_name: 'feature..x' },
    ['git_branch_name: must be a valid branch name'],
  ],
  [
    'configure with an unpinned image',
    'configure',
    { ...goodBody('configure'), docker_image: 'alpine:3.20' },
    ['docker_image: must be pinned'],
  ],
  [
    'configure with a short digest',
    'configure',
    { ...goodBody('configure'), docker_image: 'alpine@sha256:abc' },
    ['docker_image: must be pinned'],
  ],
  [
    'configure without docker_image',
    'configure',
    { ...goodBody('configure'), docker_image: undefined },
    ['docker_image: is required'],
  ],
  [
    'configure with no commands',
    'configure',
    { ...goodBody('configure'), commands: '' },
    ['commands: must not be empty'],
  ],
  [
    'configure with an empty list of commands',
    'configure',
    { ...goodBody('configure'), commands: [] },
    ['commands: must not be empty'],
  ],
  [
    'configure with an empty command',
    'configure',
    { ...goodBody('configure'), commands: 'a,,b' },
    ['commands: must not contain an empty command'],
  ],
  [
    'configure with a newline in a command',
    'configure',
    { ...goodBody('configure'), commands: ['echo a\necho b'] },
    ['commands: must not contain newlines'],
  ],
  [
    'configure with a negative signature count',
    'configure',
    { ...goodBody('configure'), required_number_of_verified_signatures_on_commit: '-1' },
    ['required_number_of_verified_signatures_on_commit: must be at least 0'],
  ],
  [
    'configure with a fractional signature count',
    'configure',
    { ...goodBody('configure'), required_number_of_verified_signatures_on_commit: 1.5 },
    ['required_number_of_verified_signatures_on_commit: must be an integer'],
  ],
  [
    'configure with a bad initial commit',
    'configure',
    { ...goodBody('configure'), initial_last_successful_commit: 'abc123' },
    ['initial_last_successful_commit: must be empty or a 40- or 64-hex'],
  ],
  [
    'configure with a bad poll period',
    'configure',
    { ...goodBody('configure'), git_poll_period: '5 minutes' },
    ['git_poll_period: must be a duration'],
  ],
  [
    'configure with an unknown field',
    'configure',
    { ...goodBody('configure'), git_repo: 'x' },
    ['git_repo: unknown field'],
  ],
  [
    'configure with several problems at once',
    'configure',
    { git_repo_url: 'x y', docker_image: 'alpine', commands: [], zzz: 1 },
    [
      'git_repo_url: must be a git URL',
      'docker_image: must be pinned',
      'commands: must not be empty',
      'zzz: unknown field',
    ],
  ],
  // configure/vault_request/<name>
  [
    'vault_request without path',
    'configure/vault_request/app',
    { method: 'GET' },
    ['path: is required'],
  ],
  [
    'vault_request with a path not starting with /',
    'configure/vault_request/app',
    { path: 'v1/secret' },
    ['path: must start with /'],
  ],
  [
    'vault_request with an unknown method',
    'configure/vault_request/app',
    { path: '/v1/x', method: 'PATCH' },
    ['method: must be one of GET POST LIST PUT DELETE'],
  ],
  [
    'vault_request with a short wrap_ttl',
    'configure/vault_request/app',
    { path: '/v1/x', wrap_ttl: '59s' },
    ['wrap_ttl: must be at least 60s'],
  ],
  [
    'vault_request with options that are not an object',
    'configure/vault_request/app',
    { path: '/v1/x', options: '[1,2]' },
    ['options: must be a JSON object'],
  ],
  [
    'vault_request with a bad name',
    'configure/vault_request/-app',
    { path: '/v1/x' },
    ['name: must match'],
  ],
  [
    'vault_request with an unknown field',
    'configure/vault_request/app',
    { path: '/v1/x', ttl: '1m' },
    ['ttl: unknown field'],
  ],
  // configure_vault_access
  [
    'vault access without vault_addr',
    'configure_vault_access',
    { ...goodBody('vault-access'), vault_addr: undefined },
    ['vault_addr: is required'],
  ],
  [
    'vault access with vault_addr not a URL',
    'configure_vault_access',
    { ...goodBody('vault-access'), vault_addr: 'vault:8200' },
    ['vault_addr: must be an http(s) URL'],
  ],
  [
    'vault access with a short secret_id_ttl',
    'configure_vault_access',
    { ...goodBody('vault-access'), secret_id_ttl: '119s' },
    ['secret_id_ttl: must be at least 120s'],
  ],
  [
    'vault access with a short token_ttl',
    'configure_vault_access',
    { ...goodBody('vault-access'), token_ttl: 19 },
    ['token_ttl: must be at least 20s'],
  ],
  [
    'vault access without role_id and secret_id',
    'configure_vault_access',
    { ...goodBody('vault-access'), role_id: undefined, secret_id: '' },
    ['role_id: is required', 'secret_id: must not be empty'],
  ],
  [
    'vault access with a mount point of slashes',
    'configure_vault_access',
    { ...goodBody('vault-access'), approle_mount_point: '//' },
    ['approle_mount_point: must not be empty'],
  ],
  [
    'vault access with a cacert that is not PEM',
    'configure_vault_access',
    { ...goodBody('vault-access'), vault_cacert: 'hello' },
    ['vault_cacert: must be empty or PEM'],
  ],
  [
    'vault access whose login fails',
    'configure_vault_access',
    { ...goodBody('vault-access'), role_id: 'bad-role' },
    ['vault_access: login'],
  ],
  // trusted keys
  [
    'trusted key that is not a key',
    'configure/trusted_pgp_public_key',
    { name: 'bob', public_key: 'hello' },
    ['public_key: must be one usable OpenPGP public key'],
  ],
  [
    'trusted key without a name',
    'configure/trusted_pgp_public_key',
    { public_key: goodBody('trusted-key').public_key },
    ['name: is required'],
  ],
  [
    'trusted key with a bad name',
    'configure/trusted_pgp_public_key',
    { ...goodBody('trusted-key'), name: 'a b' },
    ['name: must match'],
  ],
  [
    'trusted key on an item path with another name',
    'configure/trusted_pgp_public_key/alice',
    { ...goodBody('trusted-key'), name: 'bob' },
    ['name: must equal the name in the path'],
  ],
  // git credential and ssh key
  [
    'git credential without password',
    'configure/git_credential',
    { username: 'u' },
    ['password: is required'],
  ],
  [
    'git ssh key without known_hosts',
    'configure/git_ssh_key',
    { private_key: goodBody('git-ssh-key').private_key },
    ['known_hosts: is required'],
  ],
  [
    'git ssh key that is not a private key',
    'configure/git_ssh_key',
    { ...goodBody('git-ssh-key'), private_key: 'ssh-ed25519 AAAA' },
    ['private_key: must be a PEM/OpenSSH private key'],
  ],
  // the body itself
  [
    'a body that is a list',
    'configure',
    [1, 2] as unknown as Record<string, unknown>,
    ['(body): must be a JSON object'],
  ],
];

let t: TestApp;
beforeEach(async () => {
  t = makeTestApp();
  // Something stored everywhere, so "nothing changed" covers replacing as well as creating.
  for (const [path, body] of [
    ['configure', goodBody('configure')],
    ['configure/vault_request/app', goodBody('vault-request')],
    ['configure_vault_access', goodBody('vault-access')],
    ['configure/trusted_pgp_public_key', goodBody('trusted-key')],
    ['configure/git_credential', goodBody('git-credential')],
    ['configure/git_ssh_key', goodBody('git-ssh-key')],
  ] as const) {
    const r = await t.app.inject({
      method: 'PUT',
      url: `/v1/flant_gitops/${path}`,
      headers: H,
      payload: body,
    });
    expect(r.statusCode, `${path}: ${r.body}`).toBe(204);
  }
});

describe('a write that breaks a rule is refused with 400, names field and rule, and stores nothing', () => {
  it.each(BAD)('%s', async (_name, path, body, messages) => {
    const before = await t.snapshot();
    const r = await t.app.inject({
      method: 'PUT',
      url: `/v1/flant_gitops/${path}`,
      headers: H,
      payload: JSON.stringify(body),
    });
    expect(r.statusCode).toBe(400);
    const errors = splitVaultErrors((r.json() as { errors: string[] }).errors);
    for (const m of messages)
      expect(
        errors.some((e) => e.startsWith(m)),
        `${m} in ${JSON.stringify(errors)}`,
      ).toBe(true);
    expect(errors).toHaveLength(messages.length);
    expect(await t.snapshot()).toBe(before);
  });

  it('a vault request whose variable collides with another request is refused', async () => {
    const before = await t.snapshot();
    for (const name of ['APP', 'App']) {
      const r = await t.app.inject({
        method: 'PUT',
        url: `/v1/flant_gitops/configure/vault_request/${name}`,
        headers: H,
        payload: { path: '/v1/x' },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toEqual({
        errors: [
          `name: must not give the same variable VAULT_REQUEST_TOKEN_APP as the existing request app`,
        ],
      });
    }
    await t.app.inject({
      method: 'PUT',
      url: '/v1/flant_gitops/configure/vault_request/a-b',
      headers: H,
      payload: { path: '/v1/x' },
    });
    const r = await t.app.inject({
      method: 'PUT',
      url: '/v1/flant_gitops/configure/vault_request/a.b',
      headers: H,
      payload: { path: '/v1/x' },
    });
    expect(r.statusCode).toBe(400);
    expect(before).not.toBe(await t.snapshot()); // a-b was added; a.b was not:
    expect((await t.store.list('mounts/flant_gitops/vault_request/')).sort()).toEqual([
      'a-b',
      'app',
    ]);
  });
});

describe('a good write replaces the whole stored object, with defaults for absent fields', () => {
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
