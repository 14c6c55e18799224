/**
 * Classification of git's stderr into the error codes the reconcile loop acts on, with samples
 * taken from real git 2.39 / OpenSSH 9.2 runs, and the guarantee that no secret reaches a message.
 */
import { describe, expect, it } from 'vitest';
import { classifyGitFailure, sanitizeGitOutput } from '../../src/git/errors.js';

const BOILERPLATE =
  'fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n';

describe('classifyGitFailure maps git stderr to a code', () => {
  it.each([
    [
      'wrong HTTP password',
      "fatal: could not read Username for 'http://127.0.0.1:1': terminal prompts disabled\n",
      'GIT_AUTH',
      /authentication failed/,
    ],
    [
      'HTTP 403',
      "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 403\n",
      'GIT_AUTH',
      /authentication failed/,
    ],
    [
      'SSH key refused',
      `root@127.0.0.1: Permission denied (publickey).\n${BOILERPLATE}`,
      'GIT_AUTH',
      /authentication failed/,
    ],
    [
      'SSH host not in known_hosts',
      `No ED25519 host key is known for [127.0.0.1]:2 and you have requested strict checking.\nHost key verification failed.\n${BOILERPLATE}`,
      'GIT_AUTH',
      /host key verification failed/i,
    ],
    [
      'SSH host key changed',
      '@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@\nHost key verification failed.\n',
      'GIT_AUTH',
      /host key verification failed/i,
    ],
    [
      'HTTP 404',
      "fatal: repository 'http://127.0.0.1:1/x.git/' not found\n",
      'GIT_NOT_FOUND',
      /repository not found/,
    ],
    [
      'missing local repository',
      `fatal: '/tmp/x.git' does not appear to be a git repository\n${BOILERPLATE}`,
      'GIT_NOT_FOUND',
      /repository not found/,
    ],
    [
      'missing branch at fetch',
      "fatal: couldn't find remote ref refs/heads/nope\n",
      'GIT_NOT_FOUND',
      /repository not found/,
    ],
    [
      // Was reported as GIT_UNREACHABLE "the host could not be reached" (issue 20).
      'file:// repository owned by another user (dubious ownership)',
      `fatal: detected dubious ownership in repository at '/srv/deploy.git'\nTo add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /srv/deploy.git\n${BOILERPLATE}`,
      'GIT_UNSAFE_REPOSITORY',
      /owned by another user .*--git-safe-directory/,
    ],
    [
      'HTTP connection refused',
      "fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server\n",
      'GIT_UNREACHABLE',
      /could not be reached/,
    ],
    [
      'SSH connection refused',
      `ssh: connect to host 127.0.0.1 port 1: Connection refused\n${BOILERPLATE}`,
      'GIT_UNREACHABLE',
      /could not be reached/,
    ],
    [
      'git:// connection refused',
      'fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: errno=Connection refused\n',
      'GIT_UNREACHABLE',
      /could not be reached/,
    ],
    [
      'unknown host',
      "fatal: unable to access 'https://nope.invalid/x.git/': Could not resolve host: nope.invalid\n",
      'GIT_UNREACHABLE',
      /could not be reached/,
    ],
    [
      'curl low-speed abort',
      "fatal: unable to access 'http://h/x.git/': Operation too slow. Less than 1 bytes/sec transferred the last 7 seconds\n",
      'GIT_TIMEOUT',
      /stopped sending/,
    ],
    ['anything else', 'fatal: bad object deadbeef\n', 'GIT_FAILED', /git failed/],
  ])('%s → %s', (_name, stderr, code, reason) => {
    const e = classifyGitFailure({ op: 'ls-remote', stderr, exitCode: 128 });
    expect(e.code).toBe(code);
    expect(e.reason).toMatch(reason);
    expect(e.reason).toMatch(/^git ls-remote/);
  });

  it('a call we stopped is GIT_TIMEOUT whatever git printed, and says after how long', () => {
    const e = classifyGitFailure({
      op: 'fetch',
      stderr: 'Connection refused',
      timedOutAfterMs: 2000,
    });
    expect(e.code).toBe('GIT_TIMEOUT');
    expect(e.next).toBe('retry-later');
    expect(e.reason).toContain('2000 ms');
  });

  it('auth and not-found need a person; unreachable is retried later', () => {
    const next = (stderr: string) => classifyGitFailure({ op: 'ls-remote', stderr }).next;
    expect(next('Permission denied (publickey).')).toBe('user');
    expect(next("fatal: repository 'x' not found")).toBe('user');
    expect(next('Connection refused')).toBe('retry-later');
  });
});

describe('no secret reaches a message', () => {
  const password = 'hunter2-Pa55';
  const header = Buffer.from(`me:${password}`).toString('base64');

  it('scrubs the password, the auth header and URL credentials from reason and details', () => {
    const e = classifyGitFailure({
      op: 'fetch',
      url: `https://me:${password}@example.com/r.git`,
      stderr: `fatal: unable to access 'https://me:${password}@example.com/r.git/': The requested URL returned error: 401 (Authorization: Basic ${header}, ${password})\n`,
      secrets: [password, header],
    });
    const text = `${e.message} ${JSON.stringify(e.details)}`;
    expect(text).not.toContain(password);
    expect(text).not.toContain(header);
    expect(e.reason).toContain('https://***@example.com/r.git');
    expect(e.code).toBe('GIT_AUTH');
  });

  it('drops ssh/git boilerplate and keeps the line that says what happened', () => {
    expect(sanitizeGitOutput(`root@h: Permission denied (publickey).\n${BOILERPLATE}`)).toBe(
      'root@h: Permission denied (publickey).',
    );
  });

  it('keeps long output short', () => {
    expect(sanitizeGitOutput('x'.repeat(5000)).length).toBeLessThanOrEqual(601);
  });
});
