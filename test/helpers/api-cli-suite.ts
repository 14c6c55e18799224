/**
 * The configuration API driven by the real `bao` CLI, as one suite over any transport that
 * serves the mounts `flant_gitops` and `flant-gitops`: the HTTP service on loopback
 * (api-cli.test.ts) and the OpenBao plugin inside a real OpenBao (plugin-api-cli.test.ts).
 * write, read, list, delete and path-help on every path, the original's `make enable` writes
 * on a mount named `flant-gitops`, and configure_vault_access against the shared real OpenBao
 * with AppRole (through the real VaultAccessService) and trusted keys through the real
 * KeyInspector.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hermeticEnv } from './bench.js';
import { cliStatePathsSuite } from './api-cli-paths-suite.js';
import { bao } from './openbao.js';

/** A server of the two mounts, reached by the bao CLI at `target` with its token. */
export interface CliServer {
  readonly target: { addr: string; token: string };
  stop(): Promise<void>;
}

/** Register the CLI suite; `start` brings up the transport under test (once per file). */
export function cliSuite(start: () => Promise<CliServer>): void {
  const openbao = inject('openbao');
  const id = randomBytes(4).toString('hex');
  const approle = `approle-api-${id}`;
  const DIGEST = 'sha256:' + 'ab'.repeat(32);
  const IMAGE = `registry.example.com/deploy/runner:1.0@${DIGEST}`;

  let dir = '';
  let server: CliServer | undefined;
  let us: { addr: string; token: string };
  let alicePath = '';

  async function must(
    target: { addr: string; token: string },
    args: string[],
    stdin?: string,
  ): Promise<string> {
    const r = await bao(target, args, stdin === undefined ? {} : { stdin });
    if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  }
  const ours = (args: string[]) => must(us, args);
  const readJson = async (path: string) =>
    JSON.parse(await ours(['read', '-format=json', path])) as { data: Record<string, unknown> };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-api-cli-'));
    // A real key for the real KeyInspector (throw-away GNUPGHOME, no passphrase: test only).
    const gnupg = join(dir, 'gnupg');
    execFileSync('mkdir', ['-m', '700', gnupg]);
    const env = hermeticEnv({ GNUPGHOME: gnupg });
    execFileSync(
      'gpg',
      [
        '--batch',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        '',
        '--quick-gen-key',
        'Alice <alice@example.com>',
        'ed25519',
        'sign',
        'never',
      ],
      { env, stdio: 'ignore' },
    );
    alicePath = join(dir, 'alice.asc');
    writeFileSync(
      alicePath,
      execFileSync('gpg', ['--batch', '--armor', '--export', 'alice@example.com'], { env }),
    );
    writeFileSync(join(dir, 'not-a-key.asc'), 'hello\n');

    server = await start();
    us = server.target;

    // AppRole on the real OpenBao, as the original's `make enable` prepared it.
    await must(openbao, ['auth', 'enable', `-path=${approle}`, 'approle']);
    await must(
      openbao,
      ['policy', 'write', `fg-api-${id}`, '-'],
      `path "auth/${approle}/role/r/secret-id" { capabilities = ["update"] }
  path "auth/${approle}/role/r/secret-id/destroy" { capabilities = ["update"] }`,
    );
    await must(openbao, [
      'write',
      `auth/${approle}/role/r`,
      `token_policies=fg-api-${id}`,
      'token_ttl=120',
      'secret_id_ttl=7200',
    ]);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("the original's `make enable` writes, on a mount named flant-gitops", () => {
    it('configure and one vault request are written and read back with the bao CLI', async () => {
      await ours([
        'write',
        'flant-gitops/configure',
        'git_repo_url=https://git.example.com/org/repo.git',
        `docker_image=${IMAGE}`,
        'commands=./script.sh',
        'required_number_of_verified_signatures_on_commit=0',
      ]);
      await ours([
        'write',
        'flant-gitops/configure/vault_request/get_configuration',
        'path=/v1/secret/data/config',
        'method=GET',
        'wrap_ttl=1m',
      ]);
      expect((await readJson('flant-gitops/configure')).data).toEqual({
        git_repo_url: 'https://git.example.com/org/repo.git',
        git_branch_name: 'main',
        git_poll_period: 300,
        required_number_of_verified_signatures_on_commit: 0,
        initial_last_successful_commit: '',
        docker_image: IMAGE,
        commands: ['./script.sh'],
      });
      expect(
        (await readJson('flant-gitops/configure/vault_request/get_configuration')).data,
      ).toEqual({
        name: 'get_configuration',
        path: '/v1/secret/data/config',
        method: 'GET',
        options: {},
        wrap_ttl: 60,
      });
      // The other mount is separate.
      expect((await bao(us, ['read', 'flant_gitops/configure'])).code).toBe(2);
    });

    it("configure_vault_access logs in to the real OpenBao and replaces the operator's secret id", async () => {
      const roleId = await must(openbao, [
        'read',
        '-field=role_id',
        `auth/${approle}/role/r/role-id`,
      ]);
      const operatorSecret = await must(openbao, [
        'write',
        '-f',
        '-field=secret_id',
        `auth/${approle}/role/r/secret-id`,
      ]);
      await ours([
        'write',
        'flant-gitops/configure_vault_access',
        `vault_addr=${openbao.addr}`,
        'vault_tls_server_name=localhost',
        'role_name=r',
        `role_id=${roleId}`,
        `secret_id=${operatorSecret}`,
        `approle_mount_point=auth/${approle}/`,
        'secret_id_ttl=120m',
        'token_ttl=60s',
      ]);
      const read = await ours(['read', '-format=json', 'flant-gitops/configure_vault_access']);
      expect(read).not.toContain(operatorSecret);
      expect(JSON.parse(read).data).toMatchObject({
        vault_addr: openbao.addr,
        role_name: 'r',
        role_id: roleId,
        approle_mount_point: `auth/${approle}`,
        secret_id_ttl: 7200,
        token_ttl: 60,
      });
      expect(JSON.parse(read).data).not.toHaveProperty('secret_id');
      // The operator's secret id was destroyed.
      const login = await bao(openbao, [
        'write',
        `auth/${approle}/login`,
        `role_id=${roleId}`,
        `secret_id=${operatorSecret}`,
      ]);
      expect(login.code).not.toBe(0);
      // Wrong credentials are the operator's problem: 400 naming it, and nothing stored changes.
      const bad = await bao(us, [
        'write',
        'flant-gitops/configure_vault_access',
        `vault_addr=${openbao.addr}`,
        'vault_tls_server_name=localhost',
        'role_name=r',
        `role_id=${roleId}`,
        'secret_id=not-a-secret-id',
        `approle_mount_point=auth/${approle}`,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('Code: 400');
      expect(bad.stderr).not.toContain('not-a-secret-id');
      expect(
        JSON.parse(await ours(['read', '-format=json', 'flant-gitops/configure_vault_access']))
          .data,
      ).toMatchObject({ secret_id_ttl: 7200 });
    });
  });

  describe('every path through the bao CLI', () => {
    it('vault requests: write, list, read, delete', async () => {
      await ours([
        'write',
        'flant_gitops/configure/vault_request/db-creds',
        'path=/v1/database/creds/app',
        'method=post',
        'wrap_ttl=90s',
        'options={"ttl":"1h"}',
      ]);
      await ours(['write', 'flant_gitops/configure/vault_request/kv', 'path=/v1/secret/data/app']);
      const list = JSON.parse(
        await ours(['list', '-format=json', 'flant_gitops/configure/vault_request']),
      );
      expect(list).toEqual(['db-creds', 'kv']);
      const detailed = await ours(['list', '-detailed', 'flant_gitops/configure/vault_request']);
      expect(detailed).toContain('/v1/database/creds/app');
      expect((await readJson('flant_gitops/configure/vault_request/db-creds')).data).toEqual({
        name: 'db-creds',
        path: '/v1/database/creds/app',
        method: 'POST',
        options: { ttl: '1h' },
        wrap_ttl: 90,
      });
      const clash = await bao(us, [
        'write',
        'flant_gitops/configure/vault_request/DB.creds',
        'path=/v1/x',
      ]);
      expect(clash.code).toBe(2);
      expect(clash.stderr).toContain(
        'name: must not give the same variable VAULT_REQUEST_TOKEN_DB_CREDS',
      );
      await ours(['delete', 'flant_gitops/configure/vault_request/db-creds']);
      await ours(['delete', 'flant_gitops/configure/vault_request/kv']);
      const gone = await bao(us, ['read', 'flant_gitops/configure/vault_request/kv']);
      expect(gone.code).toBe(2);
      expect(gone.stderr).toContain('No value found');
      expect((await bao(us, ['list', 'flant_gitops/configure/vault_request'])).code).toBe(2);
    });

    it('configure: a bad write lists every problem and changes nothing; delete removes it', async () => {
      await ours([
        'write',
        'flant_gitops/configure',
        'git_repo_url=git@example.com:org/repo.git',
        `docker_image=${DIGEST}`,
        'commands=["echo a, b", "./deploy.sh"]',
        'git_poll_period=1h30m',
      ]);
      const bad = await bao(us, [
        'write',
        'flant_gitops/configure',
        'git_repo_url=git@example.com:org/repo.git',
        'docker_image=alpine:latest',
        'commands=',
        'required_number_of_verified_signatures_on_commit=-1',
        'colour=blue',
      ]);
      expect(bad.code).toBe(2);
      for (const m of [
        'docker_image: must be pinned',
        'commands: must not be empty',
        'required_number_of_verified_signatures_on_commit: must be at least 0',
        'colour: unknown field',
      ]) {
        expect(bad.stderr).toContain(m);
      }
      expect((await readJson('flant_gitops/configure')).data).toMatchObject({
        docker_image: DIGEST,
        commands: ['echo a, b', './deploy.sh'],
        git_poll_period: 5400,
      });
      await ours(['delete', 'flant_gitops/configure']);
      expect((await bao(us, ['read', 'flant_gitops/configure'])).code).toBe(2);
    });

    it('trusted keys: a real key is accepted and described, a bad one refused', async () => {
      await ours([
        'write',
        'flant_gitops/configure/trusted_pgp_public_key',
        'name=alice',
        `public_key=@${alicePath}`,
      ]);
      const bad = await bao(us, [
        'write',
        'flant_gitops/configure/trusted_pgp_public_key',
        'name=mallory',
        `public_key=@${join(dir, 'not-a-key.asc')}`,
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('public_key: must be one usable OpenPGP public key');
      expect(
        JSON.parse(
          await ours(['list', '-format=json', 'flant_gitops/configure/trusted_pgp_public_key']),
        ),
      ).toEqual(['alice']);
      expect((await readJson('flant_gitops/configure/trusted_pgp_public_key')).data).toEqual({
        names: ['alice'],
      });
      const item = (await readJson('flant_gitops/configure/trusted_pgp_public_key/alice')).data;
      expect(item).toMatchObject({
        name: 'alice',
        user_ids: ['Alice <alice@example.com>'],
        expires: null,
      });
      expect(item.fingerprint).toMatch(/^[0-9A-F]{40}$/);
      await ours(['delete', 'flant_gitops/configure/trusted_pgp_public_key/alice']);
      expect((await bao(us, ['list', 'flant_gitops/configure/trusted_pgp_public_key'])).code).toBe(
        2,
      );
    });

    it('git credential and ssh key: write-only secrets', async () => {
      await ours([
        'write',
        'flant_gitops/configure/git_credential',
        'username=deployer',
        'password=cli-password-31337',
      ]);
      const cred = await ours(['read', '-format=json', 'flant_gitops/configure/git_credential']);
      expect(JSON.parse(cred).data).toEqual({ username: 'deployer' });
      expect(cred).not.toContain('cli-password-31337');
      await ours(['delete', 'flant_gitops/configure/git_credential']);
      expect((await bao(us, ['read', 'flant_gitops/configure/git_credential'])).code).toBe(2);

      const key =
        '-----BEGIN OPENSSH PRIVATE KEY-----\ncli-key-material-9931\n-----END OPENSSH PRIVATE KEY-----\n';
      writeFileSync(join(dir, 'id_test'), key);
      await ours([
        'write',
        'flant_gitops/configure/git_ssh_key',
        `private_key=@${join(dir, 'id_test')}`,
        'known_hosts=git.example.com ssh-ed25519 AAAAC3Nza',
      ]);
      const ssh = await ours(['read', '-format=json', 'flant_gitops/configure/git_ssh_key']);
      expect(JSON.parse(ssh).data).toEqual({
        private_key_set: true,
        known_hosts: 'git.example.com ssh-ed25519 AAAAC3Nza',
      });
      expect(ssh).not.toContain('cli-key-material-9931');
      await ours(['delete', 'flant_gitops/configure/git_ssh_key']);
    });

    it.each([
      'configure',
      'configure/vault_request',
      'configure/vault_request/get_configuration',
      'configure_vault_access',
      'configure/trusted_pgp_public_key',
      'configure/trusted_pgp_public_key/alice',
      'configure/git_credential',
      'configure/git_ssh_key',
    ])('bao path-help flant_gitops/%s shows the synopsis and fields', async (path) => {
      const out = await ours(['path-help', `flant_gitops/${path}`]);
      expect(out).toContain('Matching Route');
      expect(out).toContain('## PARAMETERS');
    });

    cliStatePathsSuite(() => us);

    it('a wrong token is refused with permission denied', async () => {
      const r = await bao({ addr: us.addr, token: 'wrong-token' }, [
        'read',
        'flant_gitops/configure',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('permission denied');
      expect(r.stderr).toContain('Code: 403');
    });
  });
}
