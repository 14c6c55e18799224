/**
 * The compose stack as a newcomer meets it: `up` from a clean host directory (the data dir does
 * not exist, DOCKER_GID is not set) must give a healthy service, and the README's walkthrough
 * (`make enable-compose`, i.e. scripts/enable.sh with FLANT_GITOPS_STACK=compose) must deploy
 * the signed demo commit through it: the demo container unwraps its token from OpenBao and
 * prints the secret.
 *
 * The bench reaches no registry, so the bench override docker-compose.bench.yml swaps in the local
 * images of scripts/build-images.sh (OpenBao from the bench's `bao`, the stand-in Node base as
 * NODE_IMAGE). Everything else is docker-compose.yml as shipped — host networking on loopback
 * ports, chosen here as free ports — built with `up --build` from the project's Dockerfile.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import { buildImages, must, run, waitForHealth, type BuiltImages } from '../helpers/images.js';
import { freePort } from '../helpers/net.js';

const project = `fg-compose-${randomBytes(4).toString('hex')}`;
let images: BuiltImages;
let scratch: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let openbaoPort: number;
let servicePort: number;

const compose = (args: string[], timeoutMs = 10 * 60_000) =>
  run(
    'docker-compose',
    ['-p', project, '-f', 'docker-compose.yml', '-f', 'docker-compose.bench.yml', ...args],
    { env, timeoutMs },
  );

beforeAll(async () => {
  images = await buildImages();
  scratch = await mkdtemp(join(tmpdir(), 'fg-compose-'));
  dataDir = join(scratch, 'var-lib', 'flant-gitops');
  openbaoPort = await freePort();
  servicePort = await freePort();
  const { DOCKER_GID: _unset, ...rest } = process.env;
  env = {
    ...rest,
    COMPOSE_INTERACTIVE_NO_CLI: '1',
    NODE_IMAGE: images.nodeImage,
    OPENBAO_IMAGE: images.openbaoImage,
    OPENBAO_PORT: String(openbaoPort),
    FLANT_GITOPS_PORT: String(servicePort),
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

describe('docker-compose.yml', () => {
  it('comes up healthy from a clean host dir, without DOCKER_GID', async () => {
    const up = await compose(['up', '-d', '--build']);
    expect(up.code, up.err + up.out).toBe(0);
    const id = await must(
      'docker-compose',
      [
        '-p',
        project,
        '-f',
        'docker-compose.yml',
        '-f',
        'docker-compose.bench.yml',
        'ps',
        '-q',
        'flant-gitops',
      ],
      { env },
    );
    expect(id).toMatch(/^[0-9a-f]{12,64}$/);
    await waitForHealth(id, 'healthy', 120_000);
    expect(statSync(dataDir).uid).toBe(1000);
    expect(statSync(join(dataDir, 'root-token')).uid).toBe(1000);
  });

  it('runs the README walkthrough (make enable-compose) through the stack', async () => {
    const r = await run('bash', [join(ROOT, 'scripts/enable.sh')], {
      env: { ...env, FLANT_GITOPS_STACK: 'compose' },
      timeoutMs: 5 * 60_000,
    });
    const out = r.out + r.err;
    expect(r.code, out).toBe(0);
    expect(out).toContain('"greeting": "hello from OpenBao"');
    expect(out).toMatch(
      new RegExp(`webhook URL: http://127\\.0\\.0\\.1:${servicePort}/hook/[0-9a-f]{64}`),
    );
    expect(out).toMatch(/deployed [0-9a-f]{40}/);
  });
});
