/**
 * Work dirs that survive full disks and kill -9 (issue 19), each reproduced on a real process
 * with real git and Docker:
 * - a data dir on a full tmpfs: the poll fails and `status` says so (not the earlier outcome),
 *   no `.tmp-*` file and no half-made mirror stays behind, a half-made mirror left by an older
 *   run is rebuilt, and once space is free the next poll deploys;
 * - kill -9 while `git ls-remote` holds the SSH private key copy: the copy lives in the data dir
 *   and the restarted service removes it;
 * - kill -9 during the export of a commit: its temp index and half-written tree are removed;
 * - kill -9 during a run: the restart removes the run dir and polls the interrupted commit at
 *   once, not after the 1 h poll period.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { commitFile, createRepoPair, git, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { startTestService, type TestService } from '../helpers/service.js';
import {
  mountApi,
  mountContainers,
  spawnService,
  type ServiceProcess,
} from '../helpers/service-process.js';
import { createSshHome, generateSshKey, type SshHome } from '../helpers/ssh-keygen.js';

const image = inject('testImage');
let repo: RepoPair;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  repo = await createRepoPair();
  await commitFile(repo, 'app.txt', 'v1\n');
  await push(repo);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  await repo?.cleanup();
});

const tipOf = (): string =>
  execFileSync('git', ['-C', repo.origin, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();

/** Every file below `dir` whose name starts with `prefix` (paths relative to `dir`). */
async function filesNamed(dir: string, prefix: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.name.startsWith(prefix))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** Fill the file system holding `dir` (write zeros into `dir/filler` until ENOSPC). */
async function fillDisk(dir: string): Promise<string> {
  const file = join(dir, 'filler');
  const fh = await open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await fh.write(chunk);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await fh.close();
  }
  // The last bytes too: a small write must fail now.
  await expect(writeFile(join(dir, 'probe'), Buffer.alloc(8192))).rejects.toMatchObject({
    code: 'ENOSPC',
  });
  await rm(join(dir, 'probe'), { force: true });
  return file;
}

describe('a data dir on a full disk', () => {
  it('fails the poll visibly, leaves no temp file or half-made mirror, and recovers once space is free', async () => {
    const mnt = await mkdtemp(join(tmpdir(), 'fg-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m,mode=0700', 'tmpfs', mnt]);
    cleanups.push(async () => {
      execFileSync('umount', ['-l', mnt]);
      await rm(mnt, { recursive: true, force: true });
    });
    const mount = 'disk_full';
    const url = `file://${repo.origin}`;
    // What an older build left after a clone on a full disk: only `description`.
    const mirrorDir = join(
      mnt,
      'mirrors',
      mount,
      createHash('sha256').update(`${url}\nmain`).digest('hex').slice(0, 16),
    );
    await mkdir(mirrorDir, { recursive: true });
    await writeFile(join(mirrorDir, 'description'), 'Unnamed repository\n');

    const svc: TestService = await startTestService({ dataDir: mnt, mounts: [mount] });
    cleanups.push(() => svc.stop({ keepData: true }));
    const api = (method: string, path: string, body?: unknown) =>
      mountApi(svc, mount, method, path, body);
    const status = async () => (await api('GET', 'status')).data;
    const polled = async (after: string): Promise<Record<string, unknown>> => {
      expect((await api('PUT', 'poll', {})).status).toBeLessThan(300);
      let s: Record<string, unknown> = {};
      await waitFor(
        'the poll to be summarised',
        async () => {
          s = await status();
          return typeof s['last_poll_at'] === 'string' && s['last_poll_at'] > after;
        },
        60_000,
      );
      await svc.service.scheduler.whenIdle();
      return status();
    };
    expect(
      (
        await api('PUT', 'configure', {
          git_repo_url: url,
          git_poll_period: '1h',
          docker_image: image,
          commands: ['cat app.txt'],
        })
      ).status,
    ).toBe(204);

    // 1. The disk is full before the first clone.
    let filler = await fillDisk(mnt);
    let s = await polled('');
    expect(s['last_poll_outcome']).toBe('failed');
    expect(String(s['last_poll_reason'])).toMatch(/ENOSPC|no space/i);
    expect(await filesNamed(join(mnt, 'store'), '.tmp-')).toEqual([]);
    expect(await filesNamed(join(mnt, 'mirrors'), '.tmp-')).toEqual([]);

    // Space is free again: the half-made mirror is rebuilt and the commit deployed.
    await rm(filler);
    s = await polled(String(s['last_poll_at']));
    expect(s).toMatchObject({ last_poll_outcome: 'deployed', last_successful_commit: tipOf() });
    expect(existsSync(join(mirrorDir, 'HEAD'))).toBe(true);
    expect(svc.logs()).toContain('mirror dir was half-made');

    // 2. A new commit while the disk is full: status shows the failure, not "deployed".
    await commitFile(repo, 'app.txt', 'v2\n');
    await push(repo);
    filler = await fillDisk(mnt);
    const before = String(s['last_poll_at']);
    s = await polled(before);
    expect(s['last_poll_outcome']).toBe('failed');
    expect(String(s['last_poll_reason'])).toMatch(/ENOSPC|no space/i);
    expect(await filesNamed(join(mnt, 'store'), '.tmp-')).toEqual([]);
    expect(await filesNamed(join(mnt, 'runs'), 'flant-gitops-run-')).toEqual([]);

    await rm(filler);
    s = await polled(String(s['last_poll_at']));
    expect(s).toMatchObject({ last_poll_outcome: 'deployed', last_successful_commit: tipOf() });
    expect(mountContainers(mount)).toEqual([]);
  });
});

describe('kill -9', () => {
  let dataDir: string;
  let svc: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'fg-killed-'));
  });
  afterAll(async () => {
    await svc?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('during an SSH ls-remote: the key copy is in the data dir and removed at restart', async () => {
    const mount = 'killed_ssh';
    const dir = join(dataDir, 'ssh');
    // An "SSH server" that accepts and never answers: ls-remote waits with the key on disk.
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const home: SshHome = await createSshHome();
    cleanups.push(() => home.cleanup());
    const key = await generateSshKey(home, 'deploy', 'ed25519');
    const { readFile } = await import('node:fs/promises');
    const privateKey = await readFile(key.privatePath, 'utf8');

    const first = await spawnService(dir, ['--mount', mount]);
    svc = first;
    const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
      mountApi(s, mount, method, path, body);
    expect(
      (
        await api(first, 'PUT', 'configure/git_ssh_key', {
          private_key: privateKey,
          known_hosts: `[127.0.0.1]:${port} ${key.publicLine}`,
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await api(first, 'PUT', 'configure', {
          git_repo_url: `ssh://git@127.0.0.1:${port}/repo.git`,
          git_poll_period: '1h',
          docker_image: image,
          commands: ['true'],
        })
      ).status,
    ).toBe(204);
    expect((await api(first, 'PUT', 'poll', {})).status).toBeLessThan(300);
    let keyFiles: string[] = [];
    await waitFor(
      'ls-remote to hold the key copy',
      async () => {
        keyFiles = (await filesNamed(join(dir, 'tmp'), 'id')).filter((f) =>
          f.startsWith('fg-git-ssh-'),
        );
        return keyFiles.length > 0 && sockets.length > 0;
      },
      30_000,
    );
    await first.kill9();
    // The killed process could not remove it: this is what the restart must clean.
    expect(keyFiles.every((f) => existsSync(join(dir, 'tmp', f)))).toBe(true);
    const connections = sockets.length;

    const second = await spawnService(dir, ['--mount', mount]);
    svc = second;
    for (const f of keyFiles) expect(existsSync(join(dir, 'tmp', f))).toBe(false);
    // The restart polls at once (the killed poll is retried): a new connection arrives.
    await waitFor(
      'the restarted service to poll',
      async () => sockets.length > connections,
      30_000,
    );
    for (const s of sockets) s.destroy();
    await second.stop();
    svc = undefined;
  });

  it('during an export: the export index and the half-written tree are removed at restart', async () => {
    const mount = 'killed_export';
    const dir = join(dataDir, 'export');
    // A commit large enough that its checkout takes a while (20,000 files).
    const big = await createRepoPair();
    cleanups.push(() => big.cleanup());
    for (let d = 0; d < 100; d++) {
      await mkdir(join(big.work, `d${d}`));
      for (let f = 0; f < 200; f++)
        await writeFile(join(big.work, `d${d}`, `f${f}.txt`), `${d}/${f}\n`);
    }
    await git(big.work, ['add', '-A']);
    await git(big.work, ['commit', '-q', '-m', 'many files']);
    await push(big);
    const tip = execFileSync('git', ['-C', big.origin, 'rev-parse', 'main'], {
      encoding: 'utf8',
    }).trim();

    const first = await spawnService(dir, ['--mount', mount]);
    svc = first;
    const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
      mountApi(s, mount, method, path, body);
    expect(
      (
        await api(first, 'PUT', 'configure', {
          git_repo_url: `file://${big.origin}`,
          git_poll_period: '1h',
          docker_image: image,
          commands: ['true'],
        })
      ).status,
    ).toBe(204);
    expect((await api(first, 'PUT', 'poll', {})).status).toBeLessThan(300);
    let exports: string[] = [];
    await waitFor(
      'the export to be under way',
      async () => {
        exports = (await readdir(join(dir, 'tmp')).catch(() => [])).filter((n) =>
          n.startsWith('fg-git-export-'),
        );
        return exports.length > 0;
      },
      60_000,
      10,
    );
    await first.kill9();
    const runDirs = await readdir(join(dir, 'runs'));
    expect(runDirs.length).toBe(1);
    expect(existsSync(join(dir, 'tmp', exports[0] ?? ''))).toBe(true);

    const second = await spawnService(dir, ['--mount', mount]);
    svc = second;
    expect(existsSync(join(dir, 'tmp', exports[0] ?? ''))).toBe(false);
    expect(existsSync(join(dir, 'runs', runDirs[0] ?? ''))).toBe(false);
    await waitFor(
      'the interrupted commit to be deployed',
      async () => (await api(second, 'GET', 'status')).data['last_successful_commit'] === tip,
      120_000,
    );
    await second.stop();
    svc = undefined;
  }, 240_000);

  it('during a run: the run dir is removed and the interrupted commit deployed at once', async () => {
    const mount = 'killed_run';
    const dir = join(dataDir, 'run');
    const first = await spawnService(dir, ['--mount', mount]);
    svc = first;
    const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
      mountApi(s, mount, method, path, body);
    const configure = async (s: ServiceProcess, commands: string[]) =>
      expect(
        (
          await api(s, 'PUT', 'configure', {
            git_repo_url: `file://${repo.origin}`,
            git_poll_period: '1h',
            docker_image: image,
            commands,
          })
        ).status,
      ).toBe(204);
    await configure(first, ['true']);
    expect((await api(first, 'PUT', 'poll', {})).status).toBeLessThan(300);
    const deployed = async (s: ServiceProcess, tip: string) =>
      (await api(s, 'GET', 'status')).data['last_successful_commit'] === tip;
    const tip1 = tipOf();
    await waitFor('the first commit', () => deployed(first, tip1), 60_000);

    // A new commit whose run is killed with the service.
    await commitFile(repo, 'app.txt', `v${Date.now()}\n`);
    await push(repo);
    const tip2 = tipOf();
    await configure(first, ['echo started; sleep 6']);
    expect((await api(first, 'PUT', 'poll', {})).status).toBeLessThan(300);
    let taskId = '';
    await waitFor(
      'the run to be in its container',
      async () => {
        taskId = ((await api(first, 'GET', 'status')).data['running_task'] as string | null) ?? '';
        return taskId !== '' && mountContainers(mount, { running: true }).length > 0;
      },
      60_000,
    );
    const runDirs = await readdir(join(dir, 'runs'));
    expect(runDirs.length).toBe(1);
    await first.kill9();
    expect(existsSync(join(dir, 'runs', runDirs[0] ?? ''))).toBe(true);

    const second = await spawnService(dir, ['--mount', mount]);
    svc = second;
    expect(existsSync(join(dir, 'runs', runDirs[0] ?? ''))).toBe(false);
    const stale = (await api(second, 'GET', `task/${taskId}`)).data;
    expect(stale).toMatchObject({ status: 'CANCELED', commit: tip2 });
    // No `poll` request: the poll period is 1 h and the last poll was seconds ago.
    await waitFor('the interrupted commit to be deployed', () => deployed(second, tip2), 60_000);
    expect(second.output()).toContain('did not stop cleanly');
    await second.stop();
    svc = undefined;
  });
});
