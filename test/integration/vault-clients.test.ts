/**
 * Clients written for Vault, not by us, against our API on loopback (issue 15, defects 3–6):
 * hvac (HashiCorp's Python client, pinned in .cache/hvac by scripts/provision.sh) must see our
 * error list and find its root token authenticated; the `bao` CLI must print several validation
 * errors one per line and must be refused, not silently answered unwrapped, when it asks for a
 * wrapped response.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE, hermeticEnv } from '../helpers/bench.js';
import { goodBody, makeTestApp, TEST_ROOT_TOKEN, type TestApp } from '../helpers/api-app.js';
import { bao } from '../helpers/openbao.js';
import { runTool } from '../helpers/run-tool.js';

const PYTHON = join(CACHE, 'hvac', 'venv', 'bin', 'python');
let t: TestApp;
let addr = '';

/** Run a Python snippet with hvac (asynchronously: our server answers in this process). */
async function hvac(script: string): Promise<Record<string, unknown>> {
  if (!existsSync(PYTHON)) throw new Error(`hvac is not provisioned at ${PYTHON}`);
  const r = await runTool(PYTHON, ['-c', script], {
    env: hermeticEnv({ ADDR: addr, TOKEN: TEST_ROOT_TOKEN }),
  });
  const last = r.stdout.toString('utf8').trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as Record<string, unknown>;
}

const PRELUDE = `
import json, os, hvac
from hvac import exceptions
c = hvac.Client(url=os.environ['ADDR'], token=os.environ['TOKEN'])
`;

beforeAll(async () => {
  t = makeTestApp();
  addr = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await t.app.close();
});

describe('hvac', () => {
  it('sees the error list of a refused write (Content-Type is exactly application/json)', async () => {
    const out = await hvac(`${PRELUDE}
try:
    c.write_data('flant_gitops/configure', data={'git_repo_url': 'not a url', 'commands': ''})
    print(json.dumps({'raised': False}))
except exceptions.InvalidRequest as e:
    print(json.dumps({'raised': True, 'errors': e.errors}))
`);
    expect(out.raised).toBe(true);
    expect(Array.isArray(out.errors), JSON.stringify(out)).toBe(true);
    const text = (out.errors as string[]).join('\n');
    for (const field of ['git_repo_url:', 'docker_image:', 'commands:']) {
      expect(text).toContain(field);
    }
  });

  it('finds the root token authenticated (auth/token/lookup-self), a wrong one not', async () => {
    const out = await hvac(`${PRELUDE}
bad = hvac.Client(url=os.environ['ADDR'], token='not-the-root-token-000000')
me = c.auth.token.lookup_self()['data']
other = c.auth.token.lookup(os.environ['TOKEN'])['data']
print(json.dumps({'ok': c.is_authenticated(), 'bad': bad.is_authenticated(), 'me': me,
                  'other': other}))
`);
    expect(out.ok).toBe(true);
    expect(out.bad).toBe(false);
    const me = out.me as Record<string, unknown>;
    expect(me.policies).toEqual(['root']);
    expect(me.ttl).toBe(0);
    expect(me.expire_time).toBeNull();
    // Never the token itself, nor any secret id.
    expect(JSON.stringify(out)).not.toContain(TEST_ROOT_TOKEN);
    expect(me).not.toHaveProperty('id');
    expect(out.other).toEqual(me);
  });
});

describe('bao CLI', () => {
  it('prints several validation errors one per line', async () => {
    const r = await bao({ addr, token: TEST_ROOT_TOKEN }, [
      'write',
      'flant_gitops/configure',
      'git_repo_url=not a url',
      'commands=',
    ]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.split('\n');
    const lineOf = (field: string): number => lines.findIndex((l) => l.includes(`${field}:`));
    for (const f of ['git_repo_url', 'docker_image', 'commands']) {
      expect(lineOf(f), r.stderr).toBeGreaterThanOrEqual(0);
    }
    // Each on its own line, each line one error.
    expect(new Set([lineOf('git_repo_url'), lineOf('docker_image'), lineOf('commands')]).size).toBe(
      3,
    );
    for (const l of lines) expect((l.match(/\* /g) ?? []).length).toBeLessThanOrEqual(1);
  });

  it('is refused with 400 when it asks for a wrapped response (-wrap-ttl)', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/flant_gitops/configure',
      headers: { 'x-vault-token': TEST_ROOT_TOKEN },
      payload: goodBody('configure'),
    });
    expect(put.statusCode).toBe(204);
    const r = await bao({ addr, token: TEST_ROOT_TOKEN }, [
      'read',
      '-wrap-ttl=1m',
      '-format=json',
      'flant_gitops/configure',
    ]);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain('Code: 400');
    expect(r.stderr).toContain('does not wrap responses');
    expect(r.stdout).not.toContain('git_repo_url');
    // Without the flag the same read works.
    const plain = await bao({ addr, token: TEST_ROOT_TOKEN }, ['read', 'flant_gitops/configure']);
    expect(plain.code, plain.stderr).toBe(0);
  });

  it('token lookup shows the root policy, never the token', async () => {
    const r = await bao({ addr, token: TEST_ROOT_TOKEN }, ['token', 'lookup', '-format=json']);
    expect(r.code, r.stderr).toBe(0);
    const data = (JSON.parse(r.stdout) as { data: Record<string, unknown> }).data;
    expect(data.policies).toEqual(['root']);
    expect(r.stdout).not.toContain(TEST_ROOT_TOKEN);
  });
});
