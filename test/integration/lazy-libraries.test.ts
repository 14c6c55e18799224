/**
 * An idle service loads no library it has no use for yet (BENCHMARKS.md 6: each costs resident
 * memory for as long as the process lives). The real `flant-gitops serve` process runs with a
 * module hook (test/helpers/loaded-modules-hook.mjs) that lists every module it loads; the test
 * fails when someone turns one of the lazy `import()`s back into a static import.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FIXTURES, ROOT } from '../helpers/bench.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { createGpgHome, exportPublicKey, generateKey, type GpgHome } from '../helpers/gpg.js';
import { waitFor } from '../helpers/net.js';
import { mountApi, spawnService, type ServiceProcess } from '../helpers/service-process.js';

const MOUNT = 'lazy_libs';
const image = inject('testImage');
const HOOK = pathToFileURL(join(ROOT, 'test/helpers/loaded-modules-hook.mjs')).href;

/** Libraries an idle service has no use for: containers, PGP keys, Vault, flux-recv's YAML. */
const LAZY = ['dockerode', 'openpgp', 'node-vault', 'yaml'] as const;

let repo: RepoPair;
let tip: string;
let dataDir: string;
let listDir: string;
let home: GpgHome;
let svc: ServiceProcess | undefined;

/** Start the service with the hook writing to a fresh list; returns it and the list's path. */
async function start(
  name: string,
  args: string[] = [],
): Promise<{ s: ServiceProcess; list: string }> {
  const list = join(listDir, `${name}.txt`);
  await writeFile(list, '');
  const s = await spawnService(dataDir, ['--mount', MOUNT, ...args], {
    NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', `--import=${HOOK}`].join(' ').trim(),
    FG_TEST_LOADED_MODULES: list,
  });
  svc = s;
  return { s, list };
}

/** The npm packages whose modules the process has loaded so far. */
async function loadedPackages(list: string): Promise<Set<string>> {
  const pkgs = new Set<string>();
  for (const url of (await readFile(list, 'utf8')).split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m?.[1]) pkgs.add(m[1]);
  }
  return pkgs;
}

/** The lazily loaded libraries among the loaded packages. */
async function lazyLoaded(list: string): Promise<string[]> {
  const pkgs = await loadedPackages(list);
  return LAZY.filter((p) => pkgs.has(p));
}

async function lastPollAt(s: ServiceProcess): Promise<unknown> {
  return (await mountApi(s, MOUNT, 'GET', 'status')).data['last_poll_at'];
}

beforeAll(async () => {
  repo = await createRepoPair();
  tip = await commitFile(repo, 'app.txt', 'v1\n');
  await push(repo);
  dataDir = await mkdtemp(join(tmpdir(), 'fg-lazy-'));
  listDir = await mkdtemp(join(tmpdir(), 'fg-lazy-list-'));
  home = await createGpgHome();
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await home?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
  await rm(listDir, { recursive: true, force: true });
});

describe('libraries loaded on first use', () => {
  it('an idle service polls and answers /readyz and /metrics without them; a key write loads openpgp', async () => {
    const { s, list } = await start('first');
    const configured = await mountApi(s, MOUNT, 'PUT', 'configure', {
      git_repo_url: `file://${repo.origin}`,
      git_poll_period: '1h',
      required_number_of_verified_signatures_on_commit: 0,
      initial_last_successful_commit: tip,
      docker_image: image,
      commands: ['true'],
    });
    expect(configured.status).toBe(204);
    await waitFor('the first poll', async () => (await lastPollAt(s)) !== null, 30_000);
    // Readiness pings the Docker engine (without its client library); metrics are rendered.
    expect((await fetch(`${s.addr}/readyz`)).status).toBe(200);
    expect((await fetch(`${s.addr}/metrics`)).status).toBe(200);

    const idle = await loadedPackages(list);
    // The hook saw the libraries that are loaded at start (it is not blind).
    expect(idle.has('fastify')).toBe(true);
    expect(idle.has('zod')).toBe(true);
    expect(LAZY.filter((p) => idle.has(p))).toEqual([]);

    // The first use loads the library, and it works.
    const key = await generateKey(home, { name: 'Lazy', email: 'lazy@example.com' });
    const written = await mountApi(s, MOUNT, 'PUT', 'configure/trusted_pgp_public_key', {
      name: 'lazy',
      public_key: await exportPublicKey(home, key),
    });
    expect(written.status).toBe(204);
    const read = await mountApi(s, MOUNT, 'GET', 'configure/trusted_pgp_public_key/lazy');
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.data)).toContain(key.fingerprint);
    expect(await lazyLoaded(list)).toEqual(['openpgp']);
    await s.stop();
  });

  it('after a clean stop the restart does not load the Docker client; after kill -9 it sweeps at once', async () => {
    const clean = await start('after-clean-stop');
    await waitFor(
      'a poll after the restart',
      async () => (await lastPollAt(clean.s)) !== null,
      30_000,
    );
    expect(clean.s.output()).not.toContain('did not stop cleanly');
    expect(await lazyLoaded(clean.list)).toEqual([]);
    await clean.s.kill9();

    // After a crash leftover containers may still be running: the sweep loads the client at start.
    const crashed = await start('after-kill');
    await waitFor(
      'the start-up sweep to load the Docker client',
      async () => (await lazyLoaded(crashed.list)).includes('dockerode'),
      30_000,
    );
    expect(crashed.s.output()).toContain('did not stop cleanly');
    // dockerode came without the transports we never use (src/runner/unused-transports.ts).
    // Its modules load in one synchronous run: once its last one is listed, any answer of the
    // service comes after that run ended.
    await waitFor(
      "dockerode's last module",
      async () =>
        (await readFile(crashed.list, 'utf8')).includes('/node_modules/dockerode/lib/session.js'),
      30_000,
    );
    expect((await fetch(`${crashed.s.addr}/healthz`)).status).toBe(200);
    const pkgs = await loadedPackages(crashed.list);
    expect(pkgs.has('docker-modem')).toBe(true);
    expect(['ssh2', '@grpc/grpc-js', '@grpc/proto-loader'].filter((p) => pkgs.has(p))).toEqual([]);
    await crashed.s.stop();
  });

  it('with --flux-recv-config the YAML parser is loaded and the endpoints of the file answer', async () => {
    const dir = join(FIXTURES, 'webhooks', 'flux-recv');
    const { s, list } = await start('flux-recv', [
      '--flux-recv-config',
      join(dir, 'flux-recv.yaml'),
    ]);
    expect(await lazyLoaded(list)).toEqual(['yaml']);
    const digest = createHash('sha256')
      .update(await readFile(join(dir, 'github.key')))
      .digest('hex');
    const post = (path: string) =>
      fetch(`${s.addr}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push' },
        body: '{}',
      });
    // An unsigned delivery to the file's hook is refused as unsigned, not as an unknown hook.
    expect((await post(`/hook/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await post(`/hook/${digest}`)).status).not.toBe(404);
    await s.stop();
  });
});
