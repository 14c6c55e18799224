/** Which git URLs `git_repo_url` accepts, and how URLs are shown without their credentials. */
import { describe, expect, it } from 'vitest';
import { isValidBranchName } from '../../src/config/rules/branch-name.js';
import { isSshUrl, isValidGitUrl, parseGitUrl } from '../../src/config/rules/git-url.js';
import { redactUrlCredentials } from '../../src/git/redact.js';

describe('parseGitUrl accepts the documented forms', () => {
  it.each([
    [
      'https://github.com/org/repo.git',
      { kind: 'https', host: 'github.com', path: '/org/repo.git' },
    ],
    [
      'http://127.0.0.1:8080/repo.git',
      { kind: 'http', host: '127.0.0.1', port: 8080, path: '/repo.git' },
    ],
    [
      'ssh://git@example.com:2222/srv/repo.git',
      { kind: 'ssh', host: 'example.com', port: 2222, username: 'git', path: '/srv/repo.git' },
    ],
    ['git://example.com/repo.git', { kind: 'git', host: 'example.com', path: '/repo.git' }],
    ['file:///srv/git/repo.git', { kind: 'file', path: '/srv/git/repo.git' }],
    [
      'git@github.com:org/repo.git',
      { kind: 'scp', host: 'github.com', username: 'git', path: 'org/repo.git' },
    ],
    ['example.com:repo.git', { kind: 'scp', host: 'example.com', path: 'repo.git' }],
    ['/srv/git/repo.git', { kind: 'local', path: '/srv/git/repo.git' }],
  ])('%s', (url, expected) => {
    expect(parseGitUrl(url)).toEqual({ hasPassword: false, ...expected });
    expect(isValidGitUrl(url)).toBe(true);
  });

  it('notes (but never returns) a password embedded in the URL', () => {
    const parsed = parseGitUrl('https://user:s3cret@example.com/repo.git');
    expect(parsed?.hasPassword).toBe(true);
    expect(JSON.stringify(parsed)).not.toContain('s3cret');
  });
});

describe('parseGitUrl refuses what is not a git URL or is unsafe to hand to git', () => {
  it.each([
    ['empty', ''],
    ['relative path', 'repo.git'],
    ['option injection', '--upload-pack=touch /tmp/x'],
    ['ext:: remote helper (runs commands)', 'ext::sh -c touch% /tmp/pwned'],
    ['fd:: remote helper', 'fd::3'],
    ['unknown scheme', 'ftp://example.com/repo.git'],
    ['http without host', 'http:///repo.git'],
    ['http without path', 'https://example.com'],
    ['file with a host', 'file://host/srv/repo.git'],
    ['whitespace', 'https://example.com/re po.git'],
    ['newline', 'https://example.com/repo.git\n--foo'],
    ['scp without path', 'git@example.com:'],
  ])('%s: %j', (_name, url) => {
    expect(parseGitUrl(url)).toBeUndefined();
    expect(isValidGitUrl(url)).toBe(false);
  });
});

describe('isSshUrl', () => {
  it.each([
    ['ssh://git@example.com/repo.git', true],
    ['git@example.com:repo.git', true],
    ['https://example.com/repo.git', false],
    ['/srv/repo.git', false],
  ])('%s → %s', (url, expected) => {
    expect(isSshUrl(url)).toBe(expected);
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    [
      "fatal: unable to access 'https://user:pw@host/r.git/'",
      "fatal: unable to access 'https://***@host/r.git/'",
    ],
    ['https://ghp_token@github.com/o/r.git', 'https://***@github.com/o/r.git'],
    ['ssh://user:pw@host/r.git', 'ssh://***@host/r.git'],
    ['ssh://git@host/r.git', 'ssh://git@host/r.git'],
    ['no url here', 'no url here'],
    ['a http://x@a/ and https://y:z@b/', 'a http://***@a/ and https://***@b/'],
  ])('%s', (input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
  });
});

describe('isValidBranchName', () => {
  it.each(['main', 'release/1.2', 'feature/x-y_z', 'v1.0'])('accepts %s', (name) => {
    expect(isValidBranchName(name)).toBe(true);
  });
  it.each([
    '',
    '-x',
    'a..b',
    'a b',
    'a:b',
    'a~1',
    'a^',
    'a?',
    'a*',
    'a[',
    'a\\b',
    '/a',
    'a/',
    'a//b',
    '.a',
    'a/.b',
    'a.lock',
    'a.',
    '@',
    'a@{1}',
  ])('refuses %j', (name) => {
    expect(isValidBranchName(name)).toBe(false);
  });
});
