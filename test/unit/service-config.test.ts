import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service-config.js';

const CWD = '/srv/fg';

function errorsOf(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadServiceConfig(args, env, CWD);
  } catch (e) {
    return (e as { details: { errors: string[] } }).details.errors;
  }
  throw new Error('expected the configuration to be refused');
}

describe('service configuration', () => {
  it('has safe defaults: loopback 8080, ./data, root token in the data dir, mount flant_gitops, embedded auth', () => {
    expect(loadServiceConfig([], {}, CWD)).toEqual({
      listen: { host: '127.0.0.1', port: 8080 },
      dataDir: '/srv/fg/data',
      rootTokenFile: '/srv/fg/data/root-token',
      mounts: ['flant_gitops'],
      auth: { mode: 'embedded' },
      logLevel: 'info',
      containerNetwork: 'bridge',
      dockerSocket: '/var/run/docker.sock',
      tickSeconds: 5,
      storage: { kind: 'files' },
      replicaId: expect.stringMatching(/^[\w.-]+-\d+-[0-9a-f]{6}$/),
      leaseTtlSeconds: 15,
      gitSafeDirectories: [],
      localRepoRoots: [],
      gitConcurrency: 8,
    });
  });

  it('reads safe git directories from repeated flags or a comma list; refuses relative paths', () => {
    expect(
      loadServiceConfig(
        ['--git-safe-directory', '/srv/a.git', '--git-safe-directory', '*'],
        {},
        CWD,
      ).gitSafeDirectories,
    ).toEqual(['/srv/a.git', '*']);
    expect(
      loadServiceConfig([], { FLANT_GITOPS_GIT_SAFE_DIRECTORIES: '/srv/a.git, /srv/b.git' }, CWD)
        .gitSafeDirectories,
    ).toEqual(['/srv/a.git', '/srv/b.git']);
    expect(() => loadServiceConfig(['--git-safe-directory', 'a.git'], {}, CWD)).toThrow(
      /--git-safe-directory \/ FLANT_GITOPS_GIT_SAFE_DIRECTORIES \[0\]: must be an absolute path or \*/,
    );
  });

  it.each(['0', '257', '1.5', 'many'])('refuses --git-concurrency %s naming the flag', (v) => {
    expect(() => loadServiceConfig(['--git-concurrency', v], {}, CWD)).toThrow(
      /--git-concurrency \/ FLANT_GITOPS_GIT_CONCURRENCY: must be/,
    );
  });

  it('reads every setting from the environment', () => {
    const cfg = loadServiceConfig(
      [],
      {
        FLANT_GITOPS_LISTEN: '[::1]:9000',
        FLANT_GITOPS_DATA_DIR: '/var/lib/fg',
        FLANT_GITOPS_ROOT_TOKEN_FILE: 'tok',
        FLANT_GITOPS_MOUNTS: 'flant_gitops, flant-gitops',
        FLANT_GITOPS_AUTH_VAULT_ADDR: 'https://vault.example.com:8200/',
        FLANT_GITOPS_LOG_LEVEL: 'debug',
        FLANT_GITOPS_CONTAINER_NETWORK: 'host',
        FLANT_GITOPS_DOCKER_SOCKET: '/run/docker.sock',
        FLANT_GITOPS_FLUX_RECV_CONFIG: 'flux-recv.yaml',
        FLANT_GITOPS_TICK_SECONDS: '2',
        FLANT_GITOPS_GIT_SAFE_DIRECTORIES: '/srv/deploy.git',
        FLANT_GITOPS_LOCAL_REPO_ROOTS: '/srv/repos, /srv/more',
        FLANT_GITOPS_GIT_CONCURRENCY: '32',
      },
      CWD,
    );
    expect(cfg).toEqual({
      listen: { host: '::1', port: 9000 },
      dataDir: '/var/lib/fg',
      rootTokenFile: '/srv/fg/tok',
      mounts: ['flant_gitops', 'flant-gitops'],
      auth: { mode: 'delegated', vaultAddr: 'https://vault.example.com:8200' },
      logLevel: 'debug',
      containerNetwork: 'host',
      dockerSocket: '/run/docker.sock',
      fluxRecvConfig: '/srv/fg/flux-recv.yaml',
      tickSeconds: 2,
      storage: { kind: 'files' },
      replicaId: expect.any(String),
      leaseTtlSeconds: 15,
      gitSafeDirectories: ['/srv/deploy.git'],
      localRepoRoots: ['/srv/repos', '/srv/more'],
      gitConcurrency: 32,
    });
  });

  it('flags win over the environment; --mount repeats', () => {
    const cfg = loadServiceConfig(
      [
        '--listen',
        '0.0.0.0:1234',
        '--data-dir',
        'd',
        '--mount',
        'a',
        '--mount',
        'b',
        '--auth-vault-addr',
        'http://127.0.0.1:8200',
        '--log-level',
        'warn',
      ],
      {
        FLANT_GITOPS_LISTEN: '127.0.0.1:1',
        FLANT_GITOPS_MOUNTS: 'x',
        FLANT_GITOPS_LOG_LEVEL: 'error',
      },
      CWD,
    );
    expect(cfg).toMatchObject({
      listen: { host: '0.0.0.0', port: 1234 },
      dataDir: '/srv/fg/d',
      rootTokenFile: '/srv/fg/d/root-token',
      mounts: ['a', 'b'],
      auth: { mode: 'delegated', vaultAddr: 'http://127.0.0.1:8200' },
      logLevel: 'warn',
    });
  });

  it('is deeply frozen', () => {
    const cfg = loadServiceConfig([], {}, CWD);
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.listen)).toBe(true);
    expect(Object.isFrozen(cfg.mounts)).toBe(true);
    expect(() => (cfg.mounts as string[]).push('x')).toThrow();
  });

  it('reports every problem at once, naming flag and variable', () => {
    const errors = errorsOf([
      '--listen',
      'localhost',
      '--mount',
      'a/b',
      '--mount',
      'a/b',
      '--auth-vault-addr',
      'vault:8200',
      '--log-level',
      'loud',
    ]);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--listen \/ FLANT_GITOPS_LISTEN: must be HOST:PORT/),
        expect.stringMatching(/^--mount \/ FLANT_GITOPS_MOUNTS \[0\]: must match/),
        expect.stringMatching(/^--mount \/ FLANT_GITOPS_MOUNTS: must not repeat a mount/),
        expect.stringMatching(
          /^--auth-vault-addr \/ FLANT_GITOPS_AUTH_VAULT_ADDR \[vaultAddr\]: must be an http\(s\) URL/,
        ),
        expect.stringMatching(/^--log-level \/ FLANT_GITOPS_LOG_LEVEL: must be one of/),
      ]),
    );
  });

  it.each([
    [['--listen', '127.0.0.1:70000'], /must be HOST:PORT/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['positional'], /positional/i],
    [['--mount', ''], /must match/],
  ])('%j is refused', (args, message) => {
    expect(errorsOf(args).join('\n')).toMatch(message);
  });

  it('an empty FLANT_GITOPS_MOUNTS is refused rather than serving nothing', () => {
    expect(errorsOf([], { FLANT_GITOPS_MOUNTS: ' , ' }).join('\n')).toMatch(
      /must name at least one mount/,
    );
  });

  it('vault-kv storage takes the token from the environment and reports every missing part', () => {
    const cfg = loadServiceConfig(
      ['--storage', 'vault-kv', '--kv-addr', 'http://127.0.0.1:8200/', '--replica-id', 'r1'],
      { FLANT_GITOPS_KV_TOKEN: 'kv-token-value' },
      CWD,
    );
    expect(cfg.storage).toEqual({
      kind: 'vault-kv',
      addr: 'http://127.0.0.1:8200',
      mount: 'secret',
      prefix: 'flant-gitops',
      auth: { kind: 'token', token: 'kv-token-value' },
    });
    expect(cfg.replicaId).toBe('r1');
    try {
      loadServiceConfig(
        [
          '--storage',
          'vault-kv',
          '--kv-token-file',
          '/nonexistent/kv-token',
          '--lease-ttl-seconds',
          '1',
        ],
        {},
        CWD,
      );
      expect.unreachable('bad settings must be rejected');
    } catch (e) {
      const errors = (e as { details?: { errors?: string[] } }).details?.errors ?? [];
      expect(errors.join('\n')).toMatch(/--storage.*\[addr\]: must be an http\(s\) URL/);
      expect(errors.join('\n')).toMatch(/cannot read \/nonexistent\/kv-token \(ENOENT\)/);
      expect(errors.join('\n')).toMatch(/--lease-ttl-seconds.*at least 3/);
    }
  });
});
