/**
 * Bounds on what a caller sends, applied before any work (issue 19): durations and counts past
 * their documented maximum, names past their length, bodies nested too deep — each a 400 naming
 * the field and the rule, nothing stored. The app is the real one over the real file store (a
 * 300-character name used to reach the file system and come back as 503).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileStore } from '../../src/storage/file-store.js';
import { goodBody, makeTestApp, TEST_ROOT_TOKEN, type TestApp } from '../helpers/api-app.js';

let dir: string;
let t: TestApp;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-bounds-'));
  t = makeTestApp({ store: await openFileStore(dir) });
});
afterEach(async () => {
  await t.app.close();
  await rm(dir, { recursive: true, force: true });
});

async function write(path: string, body: unknown) {
  return t.app.inject({
    method: 'PUT',
    url: `/v1/flant_gitops/${path}`,
    headers: { 'x-vault-token': TEST_ROOT_TOKEN, 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function refusedNothingStored(path: string, body: unknown, expected: RegExp) {
  const before = await t.snapshot();
  const res = await write(path, body);
  expect(res.statusCode, res.body).toBe(400);
  expect(res.body).toMatch(expected);
  expect(await t.snapshot()).toBe(before);
}

describe('durations and counts have a documented maximum', () => {
  it.each([
    ['task/configure', { task_timeout: '720h' }, /task_timeout: must be at most 168h/],
    ['task/configure', { task_history_limit: 100000 }, /task_history_limit: must be at most/],
    [
      'configure',
      { ...goodBody('configure'), git_poll_period: '10000000000000' },
      /git_poll_period: must be at most 8760h/,
    ],
    [
      'configure',
      { ...goodBody('configure'), required_number_of_verified_signatures_on_commit: 1000 },
      /required_number_of_verified_signatures_on_commit: must be at most 100/,
    ],
    [
      'configure/vault_request/r',
      { path: '/v1/secret/data/x', wrap_ttl: '100000h' },
      /wrap_ttl: must be at most 768h/,
    ],
    [
      'configure/webhook/many',
      {
        source: 'generic',
        secret: 'a-webhook-secret-of-this-test',
        backends: Array.from({ length: 11 }, (_, i) => `http://127.0.0.1:9/b${i}`),
      },
      /backends: must list at most 10 backends/,
    ],
  ])('%s %j → 400', async (path, body, expected) => {
    await refusedNothingStored(path, body, expected);
  });

  it('accepts the maximum itself', async () => {
    expect((await write('task/configure', { task_timeout: '168h' })).statusCode).toBe(204);
    const res = await write('configure', { ...goodBody('configure'), git_poll_period: '8760h' });
    expect(res.statusCode, res.body).toBe(204);
  });
});

describe('names have a maximum length', () => {
  it.each([300, 5000])('a %i-character request name → 400 naming the rule', async (n) => {
    await refusedNothingStored(
      `configure/vault_request/${'a'.repeat(n)}`,
      { path: '/v1/secret/data/x' },
      /name: must be at most 128 characters/,
    );
  });

  it('a 5,000-character webhook or key name → 400, never 500', async () => {
    for (const path of [
      'configure/webhook/',
      'configure/trusted_pgp_public_key/',
      'configure/trusted_ssh_public_key/',
    ]) {
      const res = await write(`${path}${'b'.repeat(5000)}`, {});
      expect(res.statusCode, `${path}: ${res.body}`).toBe(400);
      expect(res.body).toContain('must be at most 128 characters');
    }
  });

  it('a 5,000-character task id → 404, never 500', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/flant_gitops/task/${'c'.repeat(5000)}`,
      headers: { 'x-vault-token': TEST_ROOT_TOKEN },
    });
    expect([400, 404], res.body).toContain(res.statusCode);
  });
});

describe('request bodies have a maximum nesting depth', () => {
  const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  it('options nested 10,000 deep → 400', async () => {
    await refusedNothingStored(
      'configure/vault_request/deep',
      `{"path":"/v1/secret/data/x","options":${nested(10_000)}}`,
      /must not be nested more than 32 levels deep/,
    );
  });

  it('options given as a JSON string (the CLI form) nested 10,000 deep → 400', async () => {
    await refusedNothingStored(
      'configure/vault_request/deep',
      { path: '/v1/secret/data/x', options: nested(10_000) },
      /options: must not be nested more than 32 levels deep/,
    );
  });

  it('options nested 20 deep are kept as written', async () => {
    const res = await write('configure/vault_request/ok', {
      path: '/v1/secret/data/x',
      options: JSON.parse(nested(20)) as unknown,
    });
    expect(res.statusCode, res.body).toBe(204);
  });
});

describe('smaller findings', () => {
  it('git_repo_url with a token as the user name is refused, not stored and read back', async () => {
    await refusedNothingStored(
      'configure',
      { ...goodBody('configure'), git_repo_url: 'https://ghp_0123456789abcdef@github.com/o/r.git' },
      /git_repo_url: must not carry a user name or token/,
    );
  });

  it('a percent-encoded user:pass is a password too', async () => {
    for (const url of ['https://user%3Apass@git.example.com/r.git', 'ssh://u%3Ap@host/r.git']) {
      await refusedNothingStored(
        'configure',
        { ...goodBody('configure'), git_repo_url: url },
        /git_repo_url: must not carry a password/,
      );
    }
  });

  it('an SSH user name stays allowed', async () => {
    const res = await write('configure', {
      ...goodBody('configure'),
      git_repo_url: 'git@github.com:org/repo.git',
    });
    expect(res.statusCode, res.body).toBe(204);
  });

  it('a request named __proto__ is in keys and in key_info', async () => {
    expect((await write('configure/vault_request/__proto__', { path: '/v1/x' })).statusCode).toBe(
      204,
    );
    const hook = { source: 'generic', secret: 'a-webhook-secret-of-this-test' };
    expect((await write('configure/webhook/__proto__', hook)).statusCode).toBe(204);
    for (const path of ['configure/vault_request', 'configure/webhook']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/flant_gitops/${path}?list=true`,
        headers: { 'x-vault-token': TEST_ROOT_TOKEN },
      });
      const data = (JSON.parse(res.body) as { data: { keys: string[]; key_info: object } }).data;
      expect(data.keys).toEqual(['__proto__']);
      expect(Object.keys(data.key_info)).toEqual(['__proto__']);
    }
  });

  it('concurrent writes of r-N and r.N store exactly one of each pair', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => [
        write(`configure/vault_request/r-${i}`, { path: '/v1/x' }),
        write(`configure/vault_request/r.${i}`, { path: '/v1/x' }),
      ]).flat(),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 204)).toHaveLength(10);
    expect(codes.filter((c) => c === 400)).toHaveLength(10);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/flant_gitops/configure/vault_request?list=true',
      headers: { 'x-vault-token': TEST_ROOT_TOKEN },
    });
    const keys = (JSON.parse(res.body) as { data: { keys: string[] } }).data.keys;
    expect(keys).toHaveLength(10);
    for (let i = 0; i < 10; i++) {
      expect(keys.filter((k) => k === `r-${i}` || k === `r.${i}`)).toHaveLength(1);
    }
  });
});
