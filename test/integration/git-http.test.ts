/**
 * The git adapter over smart HTTP (the real `git http-backend` behind basic auth on loopback):
 * credentials travel only in a header, failures are classified, and no message carries the
 * password. Also a hung remote: the per-call timeout stops the call with GIT_TIMEOUT.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../src/errors.js';
import { SimpleGitMirrorFactory, type GitAuth } from '../../src/git/index.js';
import {
  commitFiles,
  initBare,
  initWork,
  processesWith,
  push,
  removeDir,
  tempDir,
} from '../helpers/git-cli.js';
import {
  startGitHttpServer,
  startSilentServer,
  type GitHttpServer,
  type SilentServer,
} from '../helpers/git-http-server.js';
import { freePort, waitFor } from '../helpers/net.js';

const USER = 'deployer';
const PASSWORD = 'Sup3r-secret-pa55word';
const basic = (password: string): GitAuth => ({ kind: 'basic', username: USER, password });

let root: string;
let scratch: string;
let server: GitHttpServer;
let silent: SilentServer | undefined;
let tip: string;
let mirrors = 0;

async function openMirror(url: string, auth: GitAuth, timeoutMs = 30_000) {
  const factory = new SimpleGitMirrorFactory({ timeoutMs, tmpDir: scratch });
  return factory.open(join(root, `mirror-${++mirrors}`), { url, branch: 'main', auth });
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isAppError(e)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

function expectNoSecret(e: AppError): void {
  const text = `${e.message} ${e.reason} ${JSON.stringify(e.details ?? {})}`;
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  expect(text).not.toContain('wrong-password');
}

beforeAll(async () => {
  root = tempDir('git-http');
  scratch = join(root, 'scratch');
  mkdirSync(scratch);
  const origin = await initBare(join(root, 'srv'), 'repo');
  const work = await initWork(root, origin);
  tip = await commitFiles(work, { 'a.txt': 'a\n' }, 'first');
  await push(work, 'main');
  server = await startGitHttpServer({
    projectRoot: join(root, 'srv'),
    username: USER,
    password: PASSWORD,
  });
});

afterAll(async () => {
  await server?.stop();
  await silent?.stop();
  if (root) removeDir(root);
});

describe('git mirror over smart HTTP with basic auth', () => {
  it('lists and fetches with the right password, sent as a header and never in the URL', async () => {
    const m = await openMirror(`${server.baseUrl}/repo.git`, basic(PASSWORD));
    const refs = await m.lsRemote();
    expect(refs.branch).toBe(tip);
    await m.fetch(refs);
    expect(await m.localRefs()).toEqual({ branch: tip });
    expect(m.counters).toEqual({ lsRemote: 1, fetch: 1 });
    expect(server.authenticatedUsers).toContain(USER);
    expect(server.requestUrls.join(' ')).not.toContain(PASSWORD);
  });

  it('a wrong password fails with GIT_AUTH and the message has no password', async () => {
    const m = await openMirror(`${server.baseUrl}/repo.git`, basic('wrong-password'));
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_AUTH');
    expect(e.reason).toMatch(/authentication failed/);
    expectNoSecret(e);
  });

  it('credentials in the URL are redacted from the message', async () => {
    const m = await openMirror(
      `http://${USER}:${PASSWORD}@127.0.0.1:${server.baseUrl.split(':')[2]}/missing.git`,
      { kind: 'none' },
    );
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_NOT_FOUND');
    expect(e.reason).toContain('http://***@127.0.0.1');
    expectNoSecret(e);
  });

  it('an unknown repository fails with GIT_NOT_FOUND', async () => {
    const m = await openMirror(`${server.baseUrl}/nope.git`, basic(PASSWORD));
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_NOT_FOUND');
    expectNoSecret(e);
  });

  it('nothing listening fails with GIT_UNREACHABLE', async () => {
    const port = await freePort();
    const m = await openMirror(`http://127.0.0.1:${port}/repo.git`, basic(PASSWORD));
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_UNREACHABLE');
    expect(e.next).toBe('retry-later');
    expectNoSecret(e);
  });

  it('a remote that accepts and never answers fails with GIT_TIMEOUT, and no git is left running', async () => {
    silent = await startSilentServer();
    const url = `http://127.0.0.1:${silent.port}/repo.git`;
    const m = await openMirror(url, basic(PASSWORD), 2_000);
    const e = await failure(m.lsRemote());
    expect(e.code).toBe('GIT_TIMEOUT');
    expect(e.reason).toContain('2000 ms');
    expect(silent.accepted()).toBeGreaterThan(0);
    expectNoSecret(e);
    await silent.stop();
    silent = undefined;
    await waitFor(
      'git processes of the timed-out call to end',
      async () => processesWith(url).length === 0,
    );
  });

  it('left no temp files behind', () => {
    expect(readdirSync(scratch)).toEqual([]);
  });
});
