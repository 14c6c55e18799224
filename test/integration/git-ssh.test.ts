/**
 * The git adapter over SSH against a real, throw-away sshd on loopback: key + known_hosts work,
 * a wrong key or an unknown host key is refused with a clear GIT_AUTH reason, and the key
 * material never outlives the call.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../src/errors.js';
import { SimpleGitMirrorFactory, type GitAuth } from '../../src/git/index.js';
import { commitFiles, initBare, initWork, push, removeDir, tempDir } from '../helpers/git-cli.js';
import { generateSshKey, startSshd, type Sshd, type SshKeyPair } from '../helpers/sshd.js';

let root: string;
let scratch: string;
let origin: string;
let sshd: Sshd;
let good: SshKeyPair;
let bad: SshKeyPair;
let tip: string;
let mirrors = 0;

async function openMirror(auth: GitAuth) {
  const factory = new SimpleGitMirrorFactory({ timeoutMs: 30_000, tmpDir: scratch });
  return factory.open(join(root, `mirror-${++mirrors}`), {
    url: sshd.url(origin),
    branch: 'main',
    auth,
  });
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAppError(e)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

beforeAll(async () => {
  root = tempDir('git-ssh');
  scratch = join(root, 'scratch');
  mkdirSync(scratch);
  origin = await initBare(root);
  const work = await initWork(root, origin);
  tip = await commitFiles(work, { 'a.txt': 'a\n' }, 'first');
  await push(work, 'main');
  [good, bad] = await Promise.all([generateSshKey('good'), generateSshKey('bad')]);
  sshd = await startSshd([good.publicKey]);
});

afterAll(async () => {
  await sshd?.stop();
  if (root) removeDir(root);
});

describe('git mirror over SSH', () => {
  it('lists and fetches with the authorized key and the server in known_hosts', async () => {
    const m = await openMirror({
      kind: 'ssh',
      privateKey: good.privateKey,
      knownHosts: sshd.knownHosts,
    });
    const refs = await m.lsRemote();
    expect(refs).toEqual({ branch: tip });
    await m.fetch(refs);
    expect(await m.localRefs()).toEqual({ branch: tip });
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('a key the server does not accept fails with GIT_AUTH, without the key in the message', async () => {
    const m = await openMirror({
      kind: 'ssh',
      privateKey: bad.privateKey,
      knownHosts: sshd.knownHosts,
    });
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_AUTH');
    expect(e.reason).toMatch(/authentication failed/);
    expect(e.reason).not.toContain('PRIVATE KEY');
    expect(readdirSync(scratch)).toEqual([]);
  });

  it.each([
    {
      name: 'known_hosts holds another key for this host',
      knownHosts: () => `[127.0.0.1]:${sshd.port} ${bad.publicKey}`,
    },
    {
      name: 'known_hosts does not list this host',
      knownHosts: () => `[127.0.0.2]:22 ${good.publicKey}`,
    },
  ])('host key verification fails when $name (GIT_AUTH, says so)', async ({ knownHosts }) => {
    const m = await openMirror({
      kind: 'ssh',
      privateKey: good.privateKey,
      knownHosts: knownHosts(),
    });
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_AUTH');
    expect(e.reason).toMatch(/host key verification failed/i);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('an SSH key is refused for a non-SSH URL before anything runs', async () => {
    const factory = new SimpleGitMirrorFactory({ tmpDir: scratch });
    const e = await failure(
      factory.open(join(root, 'mirror-x'), {
        url: 'https://127.0.0.1/repo.git',
        branch: 'main',
        auth: { kind: 'ssh', privateKey: good.privateKey, knownHosts: sshd.knownHosts },
      }),
    );
    expect(e.code).toBe('INVALID_INPUT');
  });
});
