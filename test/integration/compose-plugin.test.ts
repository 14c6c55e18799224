/**
 * OpenBao with the plugin, as docker-compose.plugin.yml ships it: `up` builds the image from
 * docker/openbao-plugin/Dockerfile unchanged and must give, on its own, a healthy OpenBao whose
 * plugin catalog has flant_gitops (declared in the server config by SHA-256) and whose
 * self-initialization mounted it — with no root token anywhere and the generated secrets out of
 * the logs. Then the README's walkthrough (`make enable-compose-plugin`) deploys the signed demo
 * commit through that mount: the demo container unwraps its token from the same OpenBao and
 * prints the secret. A restart must unseal by itself and keep the mount's configuration.
 *
 * The bench reaches no registry, so docker-compose.plugin.bench.yml passes the local images of
 * scripts/build-images.sh (the stand-in Node base, the bench's `bao` as the OpenBao image) as
 * build args. Everything else is the shipped compose file: host networking on loopback ports,
 * chosen here as free ports.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import { must, run, waitForHealth } from '../helpers/images.js';
import { freePort } from '../helpers/net.js';

const project = `fg-plugin-${randomBytes(4).toString('hex')}`;
const FILES = 'docker-compose.plugin.yml:docker-compose.plugin.bench.yml';
const BAO = join(ROOT, '.cache', 'bin', 'bao');
let scratch: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let openbaoAddr: string;
let containerId = '';

const compose = (args: string[], timeoutMs = 15 * 60_000) =>
  run('docker-compose', args, { env, timeoutMs });

/**
 * The image, built first by scripts/build-images.sh --image openbao-plugin (the Dockerfile as it
 * is, on the local stand-ins it prints; a broken Dockerfile fails here with the build's last
 * lines), so that `up --build` below finds every layer cached.
 */
async function buildPluginImage(): Promise<{ nodeImage: string; openbaoImage: string }> {
  const out = await must(
    'bash',
    [join(ROOT, 'scripts/build-images.sh'), '--image', 'openbao-plugin'],
    { timeoutMs: 25 * 60_000 },
  );
  const get = (k: string): string => {
    const v = new RegExp(`^${k}=(.+)$`, 'm').exec(out)?.[1];
    if (!v) throw new Error(`build-images.sh printed no ${k}:\n${out}`);
    return v;
  };
  expect(get('IMAGE')).toBe('flant-gitops-openbao:local');
  return { nodeImage: get('NODE_IMAGE'), openbaoImage: get('OPENBAO_IMAGE') };
}

/** A token of the self-initialized `admin`, logged in with the password from the volume. */
async function adminToken(): Promise<string> {
  const password = await must(
    'docker-compose',
    ['exec', '-T', 'openbao', 'cat', '/openbao/secrets/admin-password'],
    { env },
  );
  expect(password.length).toBeGreaterThanOrEqual(24);
  const token = await must(
    BAO,
    ['write', '-field=token', 'auth/userpass/login/admin', `password=${password}`],
    { env: { ...env, BAO_ADDR: openbaoAddr } },
  );
  return token;
}

const bao = (token: string, args: string[]) =>
  must(BAO, args, { env: { ...env, BAO_ADDR: openbaoAddr, BAO_TOKEN: token } });

beforeAll(async () => {
  const images = await buildPluginImage();
  scratch = await mkdtemp(join(tmpdir(), 'fg-compose-plugin-'));
  dataDir = join(scratch, 'var-lib', 'flant-gitops');
  const openbaoPort = await freePort();
  const webhookPort = await freePort();
  openbaoAddr = `http://127.0.0.1:${openbaoPort}`;
  env = {
    ...process.env,
    COMPOSE_INTERACTIVE_NO_CLI: '1',
    COMPOSE_PROJECT_NAME: project,
    COMPOSE_FILE: FILES,
    NODE_IMAGE: images.nodeImage,
    OPENBAO_IMAGE: images.openbaoImage,
    OPENBAO_PORT: String(openbaoPort),
    FLANT_GITOPS_WEBHOOK_PORT: String(webhookPort),
    FLANT_GITOPS_DATA_DIR: dataDir,
    FLANT_GITOPS_REPOS_DIR: join(scratch, 'repos'),
    FLANT_GITOPS_GIT_SAFE_DIRECTORIES: join(scratch, 'repos', 'demo-repo.git'),
  };
}, 30 * 60_000);

afterAll(async () => {
  if (env) {
    await run('gpgconf', ['--kill', 'gpg-agent'], {
      env: { ...process.env, GNUPGHOME: join(dataDir, 'demo', 'gnupg') },
    });
    await compose(['down', '--volumes', '--remove-orphans', '--timeout', '5']);
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('docker-compose.plugin.yml', () => {
  it('is accepted by `docker-compose config -q`', async () => {
    const r = await run('docker-compose', ['-f', 'docker-compose.plugin.yml', 'config', '-q'], {
      env: { ...process.env, COMPOSE_INTERACTIVE_NO_CLI: '1' },
    });
    expect(r.err + r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it(
    'comes up healthy, flant_gitops registered by SHA-256 and mounted, no secret in the logs',
    async () => {
      const up = await compose(['up', '-d', '--build']);
      expect(up.code, up.err + up.out).toBe(0);
      containerId = await must('docker-compose', ['ps', '-q', 'openbao'], { env });
      expect(containerId).toMatch(/^[0-9a-f]{12,64}$/);
      await waitForHealth(containerId, 'healthy', 180_000);

      const token = await adminToken();
      const mounts = JSON.parse(
        await bao(token, ['secrets', 'list', '-detailed', '-format=json']),
      ) as Record<string, { type: string; running_sha256: string; plugin_version: string }>;
      const mount = mounts['flant_gitops/'];
      expect(mount?.type).toBe('flant_gitops');
      // The mount runs exactly the file in the image's plugin directory, declared with its version.
      const sha = await must(
        'docker-compose',
        ['exec', '-T', 'openbao', 'sha256sum', '/openbao/plugins/flant_gitops'],
        { env },
      );
      expect(mount?.running_sha256).toBe(sha.split(/\s+/)[0]);
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(mount?.plugin_version).toBe(`v${pkg.version}`);
      // The plugin answers through the mount (path-help comes from the plugin process).
      expect(await bao(token, ['path-help', 'flant_gitops/configure'])).toMatch(/git_repo_url/);

      // Self-initialization revoked its root token; the admin's token is not root.
      const self = JSON.parse(await bao(token, ['token', 'lookup', '-format=json'])) as {
        data: { policies: string[] };
      };
      expect(self.data.policies).not.toContain('root');
      const logs = await compose(['logs', '--no-color', 'openbao']);
      const password = await must(
        'docker-compose',
        ['exec', '-T', 'openbao', 'cat', '/openbao/secrets/admin-password'],
        { env },
      );
      expect(logs.out + logs.err).toContain('generated the password');
      expect(logs.out + logs.err).not.toContain(password);
      expect(logs.out + logs.err).not.toContain(token);
      // No token of any kind in the log (a dev server would print "Root Token: …"; this one
      // only says "root token generated" and revokes it).
      expect(logs.out + logs.err).not.toMatch(/Root Token:|\b(?:hvs|hvb|s|b)\.[A-Za-z0-9]{20,}/);
      expect(token).toMatch(/^(?:hvs|s)\.[A-Za-z0-9]{20,}/);
      // OpenBao and the plugin run as `openbao` (uid 1000), not root.
      const top = await must('docker', ['top', containerId, '-eo', 'pid,uid,args'], { env });
      const procs = top.split('\n').filter((l) => /bao server|flant_gitops/.test(l));
      expect(procs.length).toBeGreaterThanOrEqual(2);
      for (const p of procs) expect(p.trim().split(/\s+/)[1]).toBe('1000');
    },
    15 * 60_000,
  );

  it(
    'runs the README walkthrough (make enable-compose-plugin) through the mount',
    async () => {
      const r = await run('bash', [join(ROOT, 'scripts/enable-compose-plugin.sh')], {
        env,
        timeoutMs: 5 * 60_000,
      });
      const out = r.out + r.err;
      expect(r.code, out).toBe(0);
      expect(out).toContain('"greeting": "hello from OpenBao"');
      expect(out).toMatch(
        new RegExp(`webhook URL: http://127\\.0\\.0\\.1:${env.FLANT_GITOPS_WEBHOOK_PORT}/hook/`),
      );
      expect(out).toMatch(/deployed [0-9a-f]{40}/);
    },
    6 * 60_000,
  );

  it(
    'after a restart unseals by itself, the mount and its configuration intact',
    async () => {
      const restart = await compose(['restart', '--timeout', '10', 'openbao']);
      expect(restart.code, restart.err + restart.out).toBe(0);
      await waitForHealth(containerId, 'healthy', 120_000);
      const token = await adminToken();
      const url = await bao(token, ['read', '-field=git_repo_url', 'flant_gitops/configure']);
      expect(url).toBe(`file://${join(scratch, 'repos', 'demo-repo.git')}`);
      const status = JSON.parse(
        await bao(token, ['read', '-format=json', 'flant_gitops/status']),
      ) as { data: Record<string, unknown> };
      expect(String(status.data['last_successful_commit'])).toMatch(/^[0-9a-f]{40}$/);
    },
    4 * 60_000,
  );

  it('refuses to start an initialized storage without its unseal key, naming the path', async () => {
    // The stack's data volume, a fresh (anonymous) secrets volume: the entry point must not
    // generate a new key for old data.
    const r = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        `${project}_openbao-data:/openbao/data`,
        '-v',
        '/openbao/secrets',
        '-e',
        'BAO_LISTEN_ADDRESS=',
        'flant-gitops-openbao:local',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /initialized, but there is no unseal key at \/openbao\/secrets\/unseal\.key/,
    );
  });
});
