/**
 * Secrets sealed at rest (issue 19): a service started with --seal-key-file runs a commit over
 * HTTP basic auth with a git credential, a webhook secret, an SSH key and Vault access
 * configured; afterwards no file of its data dir holds any of those values in clear. Restarted
 * with the same key it reads them back (the next commit deploys with the same credential);
 * with a wrong key, or with none, it refuses to start and says why. Real processes, real git
 * over HTTP, real OpenBao and Docker.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newSealKeyText } from '../../src/config/rules/seal-key.js';
import { ROOT } from '../helpers/bench.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { startGitHttpServer, type GitHttpServer } from '../helpers/git-http-server.js';
import { waitFor } from '../helpers/net.js';
import { bao } from '../helpers/openbao.js';
import { mountApi, spawnService, type ServiceProcess } from '../helpers/service-process.js';
import { createSshHome, generateSshKey, type SshHome } from '../helpers/ssh-keygen.js';

const image = inject('testImage');
const openbao = inject('openbao');
const MOUNT = 'sealed';
const suffix = randomBytes(4).toString('hex');
const approle = `approle-seal-${suffix}`;
const PASSWORD = `git-pw-${randomBytes(6).toString('hex')}`;
const WEBHOOK_SECRET = `hook-secret-${randomBytes(6).toString('hex')}`;

let repo: RepoPair;
let http: GitHttpServer;
let sshHome: SshHome;
let privateKey: string;
let operatorSecretId: string;
let roleId: string;
let scratch: string;
let dataDir: string;
let keyFile: string;
let svc: ServiceProcess | undefined;

const api = (s: ServiceProcess, method: string, path: string, body?: unknown) =>
  mountApi(s, MOUNT, method, path, body);
const obao = (args: string[], stdin?: string) =>
  bao(openbao, args, stdin === undefined ? {} : { stdin });
const tipOf = (): string =>
  execFileSync('git', ['-C', repo.origin, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();

/** Every file below `dir` with its bytes as text. */
async function allFiles(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile()) continue;
    const path = join(ent.parentPath, ent.name);
    out.push({ path, text: (await readFile(path)).toString('latin1') });
  }
  return out;
}

/** `serve` on the data dir with `args`; resolves with its exit code and output (must exit). */
function serveUntilExit(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/main.ts'),
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--data-dir',
        dataDir,
        '--mount',
        MOUNT,
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

async function deployed(s: ServiceProcess, tip: string): Promise<void> {
  expect((await api(s, 'PUT', 'poll', {})).status).toBeLessThan(300);
  await waitFor(
    `commit ${tip} deployed`,
    async () => (await api(s, 'GET', 'status')).data['last_successful_commit'] === tip,
    60_000,
  );
}

beforeAll(async () => {
  repo = await createRepoPair();
  await commitFile(repo, 'app.txt', 'v1\n');
  await push(repo);
  http = await startGitHttpServer({
    projectRoot: dirname(repo.origin),
    username: 'deployer',
    password: PASSWORD,
  });
  sshHome = await createSshHome();
  privateKey = await readFile(
    (await generateSshKey(sshHome, 'deploy', 'ed25519')).privatePath,
    'utf8',
  );
  expect((await obao(['auth', 'enable', `-path=${approle}`, 'approle'])).code).toBe(0);
  expect(
    (
      await obao(
        ['policy', 'write', `seal-${suffix}`, '-'],
        `path "auth/${approle}/role/deployer/secret-id" { capabilities = ["create", "update"] }
path "auth/${approle}/role/deployer/secret-id/destroy" { capabilities = ["create", "update"] }
`,
      )
    ).code,
  ).toBe(0);
  expect(
    (await obao(['write', `auth/${approle}/role/deployer`, `token_policies=seal-${suffix}`])).code,
  ).toBe(0);
  roleId = (
    await obao(['read', '-field=role_id', `auth/${approle}/role/deployer/role-id`])
  ).stdout.trim();
  operatorSecretId = (
    await obao(['write', '-f', '-field=secret_id', `auth/${approle}/role/deployer/secret-id`])
  ).stdout.trim();
  scratch = await mkdtemp(join(tmpdir(), 'fg-seal-it-'));
  dataDir = join(scratch, 'data');
  // The key lives apart from the data dir, as an operator keeps it.
  keyFile = join(scratch, 'seal.key');
  await writeFile(keyFile, newSealKeyText(), { mode: 0o600 });
});

afterAll(async () => {
  await svc?.stop();
  await http?.stop();
  await sshHome?.cleanup();
  await repo?.cleanup();
  await obao(['auth', 'disable', approle]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('a data dir with a seal key', () => {
  it('holds no configured secret in clear after a run, reads them back with the key, refuses a wrong key or none', async () => {
    const first = await spawnService(dataDir, ['--mount', MOUNT, '--seal-key-file', keyFile]);
    svc = first;
    expect(first.output()).toContain('secrets are sealed at rest');
    const put = async (path: string, body: unknown) =>
      expect((await api(first, 'PUT', path, body)).status, path).toBe(204);
    await put('configure/git_credential', { username: 'deployer', password: PASSWORD });
    await put('configure/webhook/gh', { source: 'github', secret: WEBHOOK_SECRET });
    await put('configure_vault_access', {
      vault_addr: openbao.addr,
      vault_tls_server_name: 'localhost',
      role_name: 'deployer',
      role_id: roleId,
      secret_id: operatorSecretId,
      approle_mount_point: `auth/${approle}`,
    });
    await put('configure', {
      git_repo_url: `${http.baseUrl}/${basename(repo.origin)}`,
      git_poll_period: '1h',
      docker_image: image,
      commands: ['cat app.txt'],
    });
    await deployed(first, tipOf());
    // The SSH key too (it would take over from the credential: removed again below).
    await put('configure/git_ssh_key', {
      private_key: privateKey,
      known_hosts: 'h ssh-ed25519 AAAA',
    });
    await first.stop();

    const files = await allFiles(dataDir);
    const keyBody = privateKey.split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(20);
    for (const [name, secret] of [
      ['git password', PASSWORD],
      ['webhook secret', WEBHOOK_SECRET],
      ['operator secret id', operatorSecretId],
      ['ssh private key', keyBody],
    ] as const) {
      expect(
        files.filter((f) => f.text.includes(secret)).map((f) => f.path),
        name,
      ).toEqual([]);
    }
    // Vault access holds the service's own secret id now: its file is sealed as a whole.
    const access = files.find((f) => f.path.endsWith('configure_vault_access.json'));
    expect(access?.text).toContain('"$sealed":"aes-256-gcm"');
    expect(access?.text).not.toMatch(/secret_id|role_id/);

    // The same key reads everything back: the next commit deploys with the stored credential.
    const second = await spawnService(dataDir, ['--mount', MOUNT, '--seal-key-file', keyFile]);
    svc = second;
    expect((await api(second, 'GET', 'configure/git_ssh_key')).data).toMatchObject({
      private_key_set: true,
    });
    expect((await api(second, 'DELETE', 'configure/git_ssh_key')).status).toBe(204);
    await commitFile(repo, 'app.txt', 'v2\n');
    await push(repo);
    await deployed(second, tipOf());
    await second.stop();
    svc = undefined;

    // A wrong key, or none: no start, and the log says why.
    const wrongKey = join(scratch, 'wrong.key');
    await writeFile(wrongKey, newSealKeyText(), { mode: 0o600 });
    const wrong = await serveUntilExit(['--seal-key-file', wrongKey]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toContain('the seal key does not match the one this store was sealed with');
    const none = await serveUntilExit([]);
    expect(none.code).not.toBe(0);
    expect(none.out).toMatch(/the store is sealed .* no seal key was given/);
  });
});
