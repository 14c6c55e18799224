/**
 * What a pusher or a mount's writer controls, against the whole service (real git, real file
 * store, the composition users run): a 30 MB random signature note, a note of 10,000 junk lines,
 * a local `git_repo_url` outside the operator's roots or inside the data dir (another mount's
 * mirror), and a changed repository URL with an old last_successful_commit (issue 19).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REASON_MAX_CHARS } from '../../src/config/limits.js';
import { commitFile, createRepoPair, git, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { startTestService, type TestService } from '../helpers/service.js';

const image = inject('testImage');
let svc: TestService;
let roots: string;
let repo: RepoPair;
let tip: string;

/** The parts of `status` these tests read. */
interface StatusData {
  readonly last_poll_at?: string | null;
  readonly last_poll_outcome?: string | null;
  readonly last_poll_reason: string;
  readonly last_poll_code?: string | null;
  readonly last_successful_commit?: string | null;
  readonly tip_signatures_rejected: string[];
}

interface Reply {
  readonly data?: StatusData;
}

async function api(mount: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${svc.addr}/v1/${mount}/${path}`, {
    method,
    headers: { 'x-vault-token': svc.token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Reply) : {} };
}

function configure(mount: string, url: string, extra: Record<string, unknown> = {}) {
  return api(mount, 'PUT', 'configure', {
    git_repo_url: url,
    git_poll_period: '1h',
    docker_image: image,
    commands: ['true'],
    ...extra,
  });
}

/** Poll and wait for the poll state to name a failure; returns the status data and reply size. */
async function pollUntilFailed(mount: string): Promise<{ data: StatusData; bytes: number }> {
  const before = (await api(mount, 'GET', 'status')).json.data?.last_poll_at;
  expect((await api(mount, 'PUT', 'poll')).status).toBe(200);
  let last = { data: {} as StatusData, bytes: 0 };
  await waitFor(
    `a failed poll of ${mount}`,
    async () => {
      const r = await api(mount, 'GET', 'status');
      last = { data: r.json.data ?? last.data, bytes: r.text.length };
      return last.data.last_poll_at !== before && last.data.last_poll_outcome === 'failed';
    },
    60_000,
    100,
  );
  return last;
}

beforeAll(async () => {
  roots = await mkdtemp(join(tmpdir(), 'fg-roots-'));
  svc = await startTestService({
    mounts: ['notes_big', 'notes_lines', 'm1', 'm3', 'moved'],
    // Approved: the temp dir (the helper's root, where test repositories are made) and `roots`.
    args: ['--local-repo-root', roots],
  });
  repo = await createRepoPair();
  tip = await commitFile(repo, 'app.txt', 'v1\n');
  await push(repo);
}, 120_000);

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await rm(roots, { recursive: true, force: true });
});

describe('a pusher cannot blow up replies, records or logs with a signature note', () => {
  it('a 30 MB random note is measured, not read: one bounded line in the reason', async () => {
    const note = join(repo.root, 'big-note');
    await writeFile(note, randomBytes(30 * 1024 * 1024));
    await git(repo.work, ['notes', '--ref=signatures', 'add', '-f', '-F', note, tip]);
    await push(repo);
    expect(
      (
        await configure('notes_big', `file://${repo.origin}`, {
          required_number_of_verified_signatures_on_commit: 1,
        })
      ).status,
    ).toBe(204);
    const { data, bytes } = await pollUntilFailed('notes_big');
    expect(data.last_poll_code).toBe('SIGNATURES_INSUFFICIENT');
    expect(data.last_poll_reason).toMatch(/over the 65536-byte limit and was not read/);
    expect(data.last_poll_reason.length).toBeLessThan(REASON_MAX_CHARS + 100);
    expect(bytes).toBeLessThan(20_000);
    const tasks = await api('notes_big', 'GET', 'task?list=true');
    expect(tasks.text.length).toBeLessThan(20_000);
    const longest = Math.max(
      ...svc
        .logs()
        .split('\n')
        .map((l) => l.length),
    );
    expect(longest).toBeLessThan(20_000);
  });

  it('a note of 10,000 junk lines examines 100 and says how many were left out', async () => {
    const junk = Array.from({ length: 10_000 }, (_, i) => `x${i}`).join('\n');
    const note = join(repo.root, 'junk-note');
    await writeFile(note, junk);
    await git(repo.work, ['notes', '--ref=signatures', 'add', '-f', '-F', note, tip]);
    await push(repo);
    expect(
      (
        await configure('notes_lines', `file://${repo.origin}`, {
          required_number_of_verified_signatures_on_commit: 1,
        })
      ).status,
    ).toBe(204);
    const { data, bytes } = await pollUntilFailed('notes_lines');
    expect(data.last_poll_code).toBe('SIGNATURES_INSUFFICIENT');
    expect(data.last_poll_reason.length).toBeLessThan(REASON_MAX_CHARS + 100);
    expect(data.tip_signatures_rejected).toHaveLength(101);
    expect(data.tip_signatures_rejected.at(-1)).toMatch(
      /9900 more note line\(s\) left out: at most 100 are read/,
    );
    expect(bytes).toBeLessThan(40_000);
  });
});

describe('local repositories only from approved roots', () => {
  it("refuses another mount's mirror inside the data dir, naming the reason", async () => {
    expect((await configure('m3', `file://${repo.origin}`)).status).toBe(204);
    expect((await api('m3', 'PUT', 'poll')).status).toBe(200);
    const mirrors = join(svc.dataDir, 'mirrors', 'm3');
    await waitFor('m3 to have a mirror', async () => {
      const r = await api('m3', 'GET', 'status');
      return (
        r.json.data?.last_poll_outcome !== undefined && r.json.data?.last_poll_outcome !== null
      );
    });
    for (const url of [mirrors, `file://${mirrors}`, svc.dataDir]) {
      const r = await configure('m1', url);
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain('git_repo_url: must not be inside the service data directory');
    }
    expect((await api('m1', 'GET', 'configure')).status).toBe(404);
  });

  it('refuses a path outside every root, naming the flag; accepts one inside', async () => {
    const outside = await mkdtemp(join('/var/tmp', 'fg-outside-'));
    try {
      const r = await configure('m1', `file://${outside}/repo.git`);
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain('--local-repo-root / FLANT_GITOPS_LOCAL_REPO_ROOTS');
      expect((await configure('m1', `${roots}/repo.git`)).status).toBe(204);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('judges a symbolic link inside a root by where it points', async () => {
    const link = join(roots, 'sneaky');
    await symlink(svc.dataDir, link);
    const r = await configure('m1', `${link}/mirrors`);
    expect(r.status, r.text).toBe(400);
    expect(r.text).toContain('must not be inside the service data directory');
  });
});

describe('a changed repository URL with an old last_successful_commit', () => {
  it('fails asking the operator to act, not as a transient git failure', async () => {
    expect((await configure('moved', `file://${repo.origin}`)).status).toBe(204);
    await waitFor(
      'the first deploy of moved',
      async () => {
        await api('moved', 'PUT', 'poll');
        const r = await api('moved', 'GET', 'status');
        return r.json.data?.last_successful_commit === tip;
      },
      90_000,
      500,
    );
    const other = await createRepoPair();
    try {
      await commitFile(other, 'other.txt', 'another history\n');
      await push(other);
      expect((await configure('moved', `file://${other.origin}`)).status).toBe(204);
      const { data } = await pollUntilFailed('moved');
      expect(data.last_poll_code).toBe('GIT_UNKNOWN_COMMIT');
      expect(data.last_poll_reason).toContain(`the last successful commit ${tip}`);
      expect(data.last_poll_reason).toContain('last_successful_commit');
    } finally {
      await other.cleanup();
    }
  });
});
