/**
 * The real service image, built with the project's Dockerfile (on the bench's stand-in base, see
 * scripts/build-images.sh) and run the way the README says: the host's Docker socket and a data
 * dir bind-mounted at the same path. From a clean host directory (the data dir does not exist,
 * no DOCKER_GID anywhere) it must come up healthy and deploy a signed commit end to end; run
 * without what it needs it must say so — unhealthy, or exiting with the fix in its log.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CACHE } from '../helpers/bench.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { createGpgHome, exportPublicKey, generateKey, type GpgHome } from '../helpers/gpg.js';
import {
  buildImages,
  inspect,
  must,
  removeContainers,
  run,
  waitForHealth,
  type BuiltImages,
} from '../helpers/images.js';
import { freePort, waitFor } from '../helpers/net.js';
import { bao, type BaoResult } from '../helpers/openbao.js';

const MOUNT = 'image_e2e';
/** A second mount, following a root-owned repository that is not marked safe. */
const UNSAFE = 'image_unsafe';
const testImage = inject('testImage');
const suffix = randomBytes(4).toString('hex');
const containers: string[] = [];

let images: BuiltImages;
let scratch: string;
let home: GpgHome;
let repo: RepoPair;

function ok(r: BaoResult): string {
  if (r.code !== 0) throw new Error(`bao failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** `docker run -d` of the service image as README → Running it in a container says. */
async function runService(name: string, dataDir: string, extra: string[]): Promise<number> {
  const port = await freePort();
  containers.push(name);
  await must('docker', [
    'run',
    '-d',
    '--name',
    name,
    // The bench has no bridge network: the service and its command containers use the host's.
    '--network',
    'host',
    '--health-interval',
    '1s',
    '--health-start-period',
    '2s',
    '-v',
    '/var/run/docker.sock:/var/run/docker.sock',
    '-v',
    `${dataDir}:${dataDir}`,
    '-e',
    `FLANT_GITOPS_DATA_DIR=${dataDir}`,
    // Not 8080: the health check must follow the address the service listens on.
    '-e',
    `FLANT_GITOPS_LISTEN=127.0.0.1:${port}`,
    '-e',
    'FLANT_GITOPS_CONTAINER_NETWORK=host',
    '-e',
    `FLANT_GITOPS_MOUNTS=${MOUNT},${UNSAFE}`,
    '-e',
    'FLANT_GITOPS_TICK_SECONDS=1',
    ...extra,
    // By id: another checkout on this machine may retag flant-gitops:local meanwhile.
    images.imageId,
  ]);
  return port;
}

beforeAll(async () => {
  images = await buildImages();
  scratch = await mkdtemp(join(tmpdir(), 'fg-image-'));
  home = await createGpgHome();
  repo = await createRepoPair();
  // mkdtemp makes the repository's parent 0700: the service's uid must be able to reach it.
  await chmod(repo.root, 0o755);
}, 30 * 60_000);

afterAll(async () => {
  await removeContainers(...containers);
  await rm(scratch, { recursive: true, force: true });
  if (repo) await rm(repo.root, { recursive: true, force: true });
  await home?.cleanup();
});

describe('the service image', () => {
  it('was built with the Dockerfile from a context without .cache, node_modules or data', () => {
    const log = readFileSync(join(CACHE, 'images', 'build.log'), 'utf8');
    const m = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(log);
    expect(m, log).not.toBeNull();
    const bytes = Number(m?.[1]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m?.[2] ?? 'B'] ?? 1);
    expect(bytes).toBeLessThan(5e6);
    expect(images.imageBytes).toBeGreaterThan(0);
  });

  it('from a clean host dir comes up healthy as `node`, and deploys a signed commit', async () => {
    // The data dir does not exist: Docker creates it root-owned, the entry point gives it to node.
    const dataDir = join(scratch, 'clean-host', 'flant-gitops');
    const name = `fg-image-${suffix}`;
    // The repository is owned by root (the test's user), not by the service's uid 1000: marked
    // safe, as README → Local repositories says.
    const port = await runService(name, dataDir, [
      '-v',
      `${repo.root}:${repo.root}:ro`,
      '-e',
      `FLANT_GITOPS_LOCAL_REPO_ROOTS=${repo.root}`,
      '-e',
      `FLANT_GITOPS_GIT_SAFE_DIRECTORIES=${repo.origin}`,
    ]);
    await waitForHealth(name, 'healthy');

    const tokenFile = join(dataDir, 'root-token');
    expect(statSync(dataDir).uid).toBe(1000);
    expect(statSync(tokenFile).uid).toBe(1000);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    // The service process (tini's child) runs as uid 1000, not root.
    const top = await must('docker', ['top', name, '-eo', 'pid,uid,args']);
    const serviceLine = top.split('\n').find((l) => l.includes('/app/dist/main.js serve'));
    expect(serviceLine, top).toMatch(/^\s*\d+\s+1000\s/);

    const target = {
      addr: `http://127.0.0.1:${port}`,
      token: readFileSync(tokenFile, 'utf8').trim(),
    };
    const cli = (args: string[], stdin?: string) =>
      bao(target, args, stdin === undefined ? {} : { stdin });
    const key = await generateKey(home, { name: 'Image Signer', email: 'image@example.invalid' });
    const message = `deployed by the image ${suffix}`;
    const sha = await commitFile(repo, 'message.txt', `${message}\n`, { sign: { home, key } });
    await push(repo);
    ok(
      await cli(
        ['write', `${MOUNT}/configure/trusted_pgp_public_key`, 'name=signer', 'public_key=-'],
        await exportPublicKey(home, key),
      ),
    );
    ok(
      await cli([
        'write',
        `${MOUNT}/configure`,
        `git_repo_url=file://${repo.origin}`,
        'git_branch_name=main',
        'git_poll_period=1h',
        'required_number_of_verified_signatures_on_commit=1',
        `docker_image=${testImage}`,
        'commands=cat /git/message.txt',
      ]),
    );
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    let status: Record<string, string> = {};
    await waitFor(
      'the signed commit to be deployed',
      async () => {
        const r = await cli(['read', '-format=json', `${MOUNT}/status`]);
        status = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
        return status.last_successful_commit === sha;
      },
      90_000,
      500,
    ).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; status: ${JSON.stringify(status)}`);
    });
    const tasks = JSON.parse(ok(await cli(['list', '-format=json', `${MOUNT}/task`]))) as string[];
    const logs = await Promise.all(
      tasks.map((id) => cli(['read', '-field=result', `${MOUNT}/task/${id}/log`, 'limit=0'])),
    );
    expect(logs.map((l) => l.stdout).join('\n')).toContain(message);

    // The same repository under a path not marked safe: git's "dubious ownership" is reported
    // with its real cause (it was GIT_UNREACHABLE "the host could not be reached").
    const copy = join(repo.root, 'not-marked-safe.git');
    await must('cp', ['-a', repo.origin, copy]);
    ok(
      await cli([
        'write',
        `${UNSAFE}/configure`,
        `git_repo_url=file://${copy}`,
        'git_branch_name=main',
        'git_poll_period=1h',
        'required_number_of_verified_signatures_on_commit=0',
        `docker_image=${testImage}`,
        'commands=true',
      ]),
    );
    await waitFor(
      'the unsafe repository to be refused',
      async () => {
        const r = await cli(['read', '-format=json', `${UNSAFE}/status`]);
        status = (JSON.parse(r.stdout) as { data: Record<string, string> }).data;
        return status.last_poll_outcome === 'failed';
      },
      60_000,
      500,
    );
    expect(status.last_poll_code).toBe('GIT_UNSAFE_REPOSITORY');
    expect(status.last_poll_reason).toContain('--git-safe-directory');
  });

  it('is unhealthy, not healthy, while it cannot reach the Docker engine', async () => {
    // Run as uid 1000 without the socket's group (the entry point changes nothing under --user),
    // with a data dir it can write: alive, but unable to run anything.
    const dataDir = join(scratch, 'no-engine');
    mkdirSync(dataDir);
    await must('chown', ['1000:1000', dataDir]);
    const name = `fg-image-noengine-${suffix}`;
    const port = await runService(name, dataDir, ['--user', '1000:1000']);
    // Alive (listening) first: on a loaded machine the start can outlast the health retries.
    await waitFor(
      'the service to listen',
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200,
      90_000,
      500,
    );
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    // Unhealthy because of readiness, as the health check's own last words say.
    await waitForHealth(name, 'unhealthy');
    const lastProbe = async (): Promise<string> => {
      const h = JSON.parse(await inspect(name, '{{json .State.Health}}')) as {
        Log: { Output: string }[];
      };
      return h.Log.at(-1)?.Output ?? '';
    };
    await waitFor(
      'a health probe after the service listens',
      async () => (await lastProbe()).includes('not ready: /readyz answered 503'),
      30_000,
      500,
    );
    expect(await inspect(name, '{{.State.Health.Status}}')).toBe('unhealthy');
    expect(await inspect(name, '{{.State.Status}}')).toBe('running');
  });

  it('refuses a data dir it cannot write, and its log names the fix', async () => {
    // A root-owned data dir, as Docker creates a missing bind-mount source, with the service
    // started as uid 1000 directly (--user: the entry point does not fix it up).
    const dataDir = join(scratch, 'root-owned');
    mkdirSync(dataDir, { mode: 0o755 });
    const name = `fg-image-rootdir-${suffix}`;
    await runService(name, dataDir, ['--user', '1000:1000']);
    const code = await must('docker', ['wait', name], { timeoutMs: 60_000 });
    expect(code).not.toBe('0');
    const logs = await run('docker', ['logs', name]);
    const text = logs.out + logs.err;
    expect(text).toContain('the data dir is not writable');
    expect(text).toContain(`install -d -o 1000 -g 1000 -m 0700 ${dataDir}`);
    expect(existsSync(join(dataDir, 'root-token'))).toBe(false);
    expect(await inspect(name, '{{.State.Status}}')).toBe('exited');
  });
});
