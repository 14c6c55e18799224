/**
 * The git host process with real git: a whole poll through it (ls-remote, fetch, the raw commit,
 * its signature note, a tree export); a kill -9 of the host in the middle of a call fails that
 * call with a clear GIT_FAILED and the next poll runs in a new host; a host whose parent dies
 * exits and takes its git processes with it; the service's secrets never reach its environment.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { HostedGitMirrorFactory, sameRefs, type GitMirror } from '../../src/git/index.js';
import { GIT_HOST_TITLE } from '../../src/git/host/protocol.js';
import { ROOT } from '../helpers/bench.js';
import {
  appendSignatureNote,
  commitFiles,
  gitBytes,
  initBare,
  initWork,
  push,
  removeDir,
  tempDir,
} from '../helpers/git-cli.js';
import { startSilentServer, type SilentServer } from '../helpers/git-http-server.js';
import { waitFor } from '../helpers/net.js';

let root: string;
let origin: string;
let work: string;
let tip: string;
let silent: SilentServer;
const NOTE = 'signature: deployer';

/** Direct children of `pid` (pid and comm). */
function childrenOf(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (ppid === pid) out.push({ pid: Number(entry), comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** One poll as the pipeline does it, then what the later steps read. */
async function poll(mirror: GitMirror): Promise<{ fetched: boolean }> {
  const remote = await mirror.lsRemote();
  if (sameRefs(remote, await mirror.localRefs())) return { fetched: false };
  await mirror.fetch(remote);
  return { fetched: true };
}

beforeAll(async () => {
  root = tempDir('git-host');
  origin = await initBare(root);
  work = await initWork(root, origin);
  tip = await commitFiles(work, { 'deploy.txt': 'release 1\n', 'dir/x.txt': 'x\n' }, 'first');
  await appendSignatureNote(work, tip, NOTE);
  await push(work, 'main', 'refs/notes/signatures');
  silent = await startSilentServer();
});

afterAll(async () => {
  await silent?.stop();
  if (root) removeDir(root);
});

describe('git through the git host process', () => {
  it('polls, reads the commit and its note, and exports the tree in a child process', async () => {
    const factory = new HostedGitMirrorFactory({ tmpDir: root, concurrency: 2 });
    try {
      const mirror = await factory.open(join(root, 'mirror-poll'), {
        url: `file://${origin}`,
        branch: 'main',
        auth: { kind: 'none' },
      });
      const hostPid = factory.hostPid ?? -1;
      expect(hostPid).not.toBe(process.pid);
      expect(readFileSync(`/proc/${hostPid}/comm`, 'utf8').trim()).toBe(GIT_HOST_TITLE);
      expect(await poll(mirror)).toEqual({ fetched: true });
      expect(await poll(mirror)).toEqual({ fetched: false });
      expect(mirror.counters).toEqual({ lsRemote: 2, fetch: 1 });
      const raw = await mirror.readCommit(tip);
      expect(Buffer.from(raw).equals(await gitBytes(origin, ['cat-file', 'commit', tip]))).toBe(
        true,
      );
      expect(await mirror.readSignatureNotes(tip, 'notes-ref')).toBe(`${NOTE}\n`);
      const out = join(root, 'export');
      mkdirSync(out);
      await mirror.exportTree(tip, out);
      expect(readFileSync(join(out, 'deploy.txt'), 'utf8')).toBe('release 1\n');
      expect(readFileSync(join(out, 'dir', 'x.txt'), 'utf8')).toBe('x\n');
      // A typed error of the adapter arrives as it was thrown there.
      const unknown = 'f'.repeat(40);
      await expect(mirror.isAncestor(tip, unknown)).rejects.toMatchObject({
        code: 'GIT_UNKNOWN_COMMIT',
        details: { field: 'descendant', commit: unknown },
      });
      expect(factory.slots.maxActive).toBeGreaterThan(0);
      expect(factory.slots.maxActive).toBeLessThanOrEqual(2);
    } finally {
      await factory.close();
    }
  });

  it('kill -9 of the host mid-call fails the call clearly; the next poll runs in a new host', async () => {
    const exits: (string | null)[] = [];
    const factory = new HostedGitMirrorFactory({
      tmpDir: root,
      restartDelayMs: 0,
      onHostExit: (i) => exits.push(i.signal),
    });
    try {
      const none = { kind: 'none' } as const;
      const mirror = await factory.open(join(root, 'mirror-kill'), {
        url: `file://${origin}`,
        branch: 'main',
        auth: none,
      });
      const hanging = await factory.open(join(root, 'mirror-hang'), {
        url: `git://127.0.0.1:${silent.port}/repo.git`,
        branch: 'main',
        auth: none,
      });
      const first = factory.hostPid ?? -1;
      const accepted = silent.accepted();
      const call = hanging.lsRemote().catch((e: unknown) => e);
      // In the middle of the call: git has connected to the remote that never answers.
      await waitFor('git to connect to the silent remote', () =>
        Promise.resolve(silent.accepted() > accepted),
      );
      expect(childrenOf(first).some((c) => c.comm.startsWith('git'))).toBe(true);
      process.kill(first, 'SIGKILL');
      const e = await call;
      expect(e).toBeInstanceOf(AppError);
      expect(e).toMatchObject({ code: 'GIT_FAILED', next: 'retry-later' });
      expect((e as AppError).reason).toBe(
        'git ls-remote: the git host process ended (killed by SIGKILL) during the call; ' +
          'a new one starts with the next call',
      );
      expect(exits).toEqual(['SIGKILL']);
      // The next poll: a new host, where the mirror (opened in the old one) is opened again.
      expect(await poll(mirror)).toEqual({ fetched: true });
      expect(factory.hostPid).not.toBe(first);
      expect(await mirror.readSignatureNotes(tip, 'notes-ref')).toBe(`${NOTE}\n`);
    } finally {
      await factory.close();
    }
  });

  it('a host whose parent dies exits, and its git processes with it', async () => {
    const parent = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/helpers/git-host-parent.ts'),
        `file://${origin}`,
        join(root, 'mirror-orphan'),
        `git://127.0.0.1:${silent.port}/orphan.git`,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
        // A secret of the service's environment, which the host must not inherit.
        env: { ...process.env, VAULT_TOKEN: 'hvs.secret-of-the-parent' },
      },
    );
    let out = '';
    parent.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const accepted = silent.accepted();
      await waitFor('the parent to start its git host', () => Promise.resolve(out.includes('\n')));
      const { hostPid } = JSON.parse(out) as { hostPid: number };
      expect(childrenOf(parent.pid ?? -1).map((c) => c.pid)).toContain(hostPid);
      expect(readFileSync(`/proc/${hostPid}/environ`, 'utf8')).not.toContain('VAULT_TOKEN');
      await waitFor('git in the host to connect to the silent remote', () =>
        Promise.resolve(silent.accepted() > accepted),
      );
      const git = childrenOf(hostPid).filter((c) => c.comm.startsWith('git'));
      expect(git.length).toBeGreaterThan(0);
      parent.kill('SIGKILL');
      await waitFor('the host to exit', () => Promise.resolve(!alive(hostPid)));
      await waitFor('its git processes to end', () =>
        Promise.resolve(git.every((g) => !alive(g.pid))),
      );
    } finally {
      if (parent.exitCode === null) parent.kill('SIGKILL');
    }
  });
});
