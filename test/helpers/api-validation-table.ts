/**
 * The validation table of the configuration API: writes that must be refused with 400, naming
 * field and rule, and store nothing. ONE table for both transports — the HTTP service
 * (test/unit/api-validation.test.ts, over fakes of our own interfaces) and the OpenBao plugin
 * (test/integration/plugin-api-validation.test.ts, inside a real OpenBao with real services) —
 * driven by validationSuite (api-validation-suite.ts).
 */

/** A good body by fixture name (each transport supplies bodies its services accept). */
export type GoodBody = (name: GoodName) => Record<string, unknown>;

/** The good bodies a table needs, by fixture name under fixtures/api/good/. */
export type GoodName =
  'configure' | 'vault-request' | 'vault-access' | 'trusted-key' | 'git-credential' | 'git-ssh-key';

/** One refused write. */
export interface BadWrite {
  readonly name: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** Prefixes that must each start one error, and nothing else may be reported. */
  readonly messages: readonly string[];
  /**
   * Where real services answer in their own words: the fake AppRole login names the field, the
   * real one names the login; OpenBao's HTTP layer refuses a non-object body before the plugin.
   */
  readonly realMessages?: readonly string[];
}

/** Paths written with a good body before each case, so "nothing changed" covers replacing. */
export const SEEDS: readonly (readonly [string, GoodName])[] = [
  ['configure', 'configure'],
  ['configure/vault_request/app', 'vault-request'],
  ['configure_vault_access', 'vault-access'],
  ['configure/trusted_pgp_public_key', 'trusted-key'],
  ['configure/git_credential', 'git-credential'],
  ['configure/git_ssh_key', 'git-ssh-key'],
];

const REAL_MESSAGES: Readonly<Record<string, readonly string[]>> = {
  'vault access whose login fails': ['AppRole login'],
  'a body that is a list': ['failed to decode JSON input'],
};

/** Writes that must be refused: path, body, and messages (prefixes) that must all be present. */
export function badWrites(good: GoodBody): readonly BadWrite[] {
  const goodBody = good;
  const rows: readonly [string, string, Record<string, unknown>, readonly string[]][] = [
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
  return rows.map(([name, path, body, messages]) => ({
    name,
    path,
    body,
    messages,
    ...(REAL_MESSAGES[name] ? { realMessages: REAL_MESSAGES[name] } : {}),
  }));
}
