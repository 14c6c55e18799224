/**
 * Delegated authorization against the shared real OpenBao: the caller's own token is checked with
 * `sys/capabilities-self`, so a Vault policy decides what each operator may do on our paths. The
 * whole service runs (`--auth-vault-addr`, the file store, the real key inspector and Vault access).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { goodBody } from '../helpers/api-app.js';
import { bao } from '../helpers/openbao.js';
import { startTestService, type TestService } from '../helpers/service.js';

const openbao = inject('openbao');
const id = randomBytes(4).toString('hex');

let svc: TestService;
let addr = '';
/** A configuration whose polls stay on this machine (a local path that does not exist). */
const configuration = () => ({
  ...goodBody('configure'),
  git_repo_url: join(tmpdir(), 'fg-delegated-no-such-repo.git'),
});

/** A loopback port nothing listens on: bound to 0, read back, closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const bound = srv.address();
  await new Promise((r) => srv.close(r));
  return typeof bound === 'object' && bound ? bound.port : 0;
}
let readOnly = '';
let listOnly = '';
let nothing = '';

async function must(args: string[], stdin?: string): Promise<string> {
  const r = await bao(openbao, args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function tokenWith(policy: string, hcl: string): Promise<string> {
  await must(['policy', 'write', policy, '-'], hcl);
  return must(['token', 'create', `-policy=${policy}`, '-field=token', '-ttl=10m']);
}

async function call(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${addr}/v1/${path}`, {
    method,
    headers: {
      ...(token ? { 'X-Vault-Token': token } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  readOnly = await tokenWith(
    `fg-read-${id}`,
    'path "flant_gitops/configure" { capabilities = ["read"] }',
  );
  listOnly = await tokenWith(
    `fg-list-${id}`,
    'path "flant_gitops/configure/vault_request/" { capabilities = ["list"] }',
  );
  nothing = await tokenWith(`fg-none-${id}`, 'path "other/*" { capabilities = ["read"] }');
  svc = await startTestService({ args: ['--auth-vault-addr', openbao.addr] });
  addr = svc.addr;
});

afterAll(async () => {
  await svc?.stop();
});

describe('delegated authorization with sys/capabilities-self', () => {
  it('a token allowed only to read flant_gitops/configure can read it but not write it', async () => {
    expect((await call('GET', 'flant_gitops/configure', readOnly)).status).toBe(404);
    const w = await call('PUT', 'flant_gitops/configure', readOnly, configuration());
    expect(w).toEqual({ status: 403, json: { errors: ['permission denied'] } });
    expect((await call('DELETE', 'flant_gitops/configure', readOnly)).status).toBe(403);
    expect((await call('GET', 'flant_gitops/configure/git_credential', readOnly)).status).toBe(403);
  });

  it('the root token may do everything; then the reader sees the data', async () => {
    expect(
      (await call('PUT', 'flant_gitops/configure', openbao.token, configuration())).status,
    ).toBe(204);
    const r = await call('GET', 'flant_gitops/configure', readOnly);
    expect(r.status).toBe(200);
    expect((r.json as { data: Record<string, unknown> }).data).toMatchObject({
      docker_image: goodBody('configure').docker_image,
    });
  });

  it('the bao CLI shows the refusal of a write', async () => {
    const r = await bao({ addr, token: readOnly }, [
      'write',
      'flant_gitops/configure',
      'git_repo_url=https://x/y.git',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('permission denied');
  });

  it('list needs list (a policy on the path with a trailing /)', async () => {
    await call(
      'PUT',
      'flant_gitops/configure/vault_request/app',
      openbao.token,
      goodBody('vault-request'),
    );
    const r = await bao({ addr, token: listOnly }, [
      'list',
      '-format=json',
      'flant_gitops/configure/vault_request',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['app']);
    expect((await call('GET', 'flant_gitops/configure/vault_request/app', listOnly)).status).toBe(
      403,
    );
    expect(
      (await call('GET', 'flant_gitops/configure/vault_request?list=true', readOnly)).status,
    ).toBe(403);
  });

  it.each([
    ['no token', undefined],
    ['a token without a matching policy', 'NOTHING'],
    ['a token OpenBao does not know', 'hvs.not-a-real-token'],
  ])('%s → 403', async (_n, token) => {
    const r = await call('GET', 'flant_gitops/configure', token === 'NOTHING' ? nothing : token);
    expect(r).toEqual({ status: 403, json: { errors: ['permission denied'] } });
  });

  it('an unreachable authorizing Vault is a 502, never an allow', async () => {
    const offline = await startTestService({
      args: ['--auth-vault-addr', `http://127.0.0.1:${await closedPort()}`],
    });
    try {
      const res = await fetch(`${offline.addr}/v1/flant_gitops/configure`, {
        headers: { 'x-vault-token': openbao.token },
      });
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ errors: ['cannot reach the authorizing Vault'] });
    } finally {
      await offline.stop();
    }
  });
});
