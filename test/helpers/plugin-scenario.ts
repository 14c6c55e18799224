/**
 * The deployment scenario the plugin suites share, all through one real OpenBao that both hosts
 * the plugin and plays the target Vault (as in `make enable`): an AppRole that may read one KV
 * secret, a gpg key, a bare origin with signed commits, and a mount configured with the `bao`
 * CLI (configure_vault_access, trusted key, vault request, configure). Tasks and status are read
 * back through OpenBao, as a user would.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createGpgHome, exportPublicKey, generateKey, type GpgHome, type GpgKey } from './gpg.js';
import { commitFile, createRepoPair, push, type RepoPair } from './git-repo.js';
import { waitFor } from './net.js';
import type { PluginBao } from './plugin-bao.js';

/** What the demo container runs: prints the commit and the unwrapped secret. */
export const DEPLOY = `set -eu
echo "message: $(cat /git/message.txt)"
echo "commit=$GIT_COMMIT branch=$GIT_BRANCH"
VAULT_TOKEN="$VAULT_REQUEST_TOKEN_GET_SECRET" bao unwrap -address="$VAULT_ADDR" -field=data -format=json
`;

/** A prepared scenario. */
export interface Scenario {
  readonly secretValue: string;
  readonly repo: RepoPair;
  /** Commit `message.txt` with `content`, signed by the trusted key, and push; returns the id. */
  signedCommit(content: string): Promise<string>;
  /** Arm `mount` (vault access, key, request, configure) with these commands. */
  configureMount(mount: string, commands: string[], extra?: Record<string, string>): Promise<void>;
  cleanup(): Promise<void>;
}

/** Prepare OpenBao (AppRole, policy, KV secret), a gpg key and a repository with deploy.sh. */
export async function prepareScenario(b: PluginBao, image: string): Promise<Scenario> {
  const suffix = randomBytes(4).toString('hex');
  const secretPath = `plugin-${suffix}`;
  const secretValue = `s3cr3t-${randomBytes(6).toString('hex')}`;
  await b.must(['auth', 'enable', 'approle']).catch(() => undefined);
  await b.must(
    ['policy', 'write', 'deployer', '-'],
    `path "auth/approle/login" { capabilities = ["create", "update"] }
path "auth/approle/role/deployer/secret-id" { capabilities = ["create", "update"] }
path "auth/approle/role/deployer/secret-id/destroy" { capabilities = ["create", "update"] }
path "secret/data/${secretPath}" { capabilities = ["read"] }
`,
  );
  await b.must([
    'write',
    'auth/approle/role/deployer',
    'token_policies=deployer',
    'secret_id_ttl=1h',
    'token_ttl=10m',
  ]);
  await b.must(['kv', 'put', '-mount=secret', secretPath, `value=${secretValue}`]);
  const home: GpgHome = await createGpgHome();
  const key: GpgKey = await generateKey(home, { name: 'Deployer', email: 'd@example.test' });
  const repo = await createRepoPair();
  await commitFile(repo, 'deploy.sh', DEPLOY, { sign: { home, key } });
  const signedCommit = async (content: string): Promise<string> => {
    const id = await commitFile(repo, 'message.txt', content, { sign: { home, key } });
    await push(repo);
    return id;
  };
  await signedCommit('first deployment\n');
  const publicKey = await exportPublicKey(home, key);

  return {
    secretValue,
    repo,
    signedCommit,
    async configureMount(mount, commands, extra = {}) {
      const roleId = await b.must(['read', '-field=role_id', 'auth/approle/role/deployer/role-id']);
      const secretId = await b.must([
        'write',
        '-f',
        '-field=secret_id',
        'auth/approle/role/deployer/secret-id',
      ]);
      await b.must([
        'write',
        `${mount}/configure_vault_access`,
        `vault_addr=${b.addr}`,
        'vault_tls_server_name=localhost',
        'role_name=deployer',
        `role_id=${roleId}`,
        `secret_id=${secretId}`,
        'secret_id_ttl=1h',
        'approle_mount_point=auth/approle',
        'token_ttl=10m',
      ]);
      await b.must([
        'write',
        `${mount}/configure/trusted_pgp_public_key`,
        'name=deployer',
        `public_key=${publicKey}`,
      ]);
      await b.must([
        'write',
        `${mount}/configure/vault_request/get-secret`,
        `path=/v1/secret/data/${secretPath}`,
        'method=GET',
        'wrap_ttl=2m',
      ]);
      await b.must([
        'write',
        `${mount}/configure`,
        `git_repo_url=file://${repo.origin}`,
        'git_branch_name=main',
        'git_poll_period=1h',
        'required_number_of_verified_signatures_on_commit=1',
        `docker_image=${image}`,
        `commands=${JSON.stringify(commands)}`,
        ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
      ]);
    },
    async cleanup() {
      await repo.cleanup();
      await home.cleanup();
    },
  };
}

/** `bao read -format=json <path>`'s data. */
export async function readData(b: PluginBao, path: string): Promise<Record<string, unknown>> {
  const r = await b.cli(['read', '-format=json', path]);
  if (r.code !== 0) throw new Error(`bao read ${path} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { data: Record<string, unknown> }).data;
}

/** Task ids of `mount`, through OpenBao. */
export async function taskIds(b: PluginBao, mount: string): Promise<string[]> {
  const r = await b.cli(['list', '-format=json', `${mount}/task`]);
  return r.code === 0 ? (JSON.parse(r.stdout) as string[]) : [];
}

/** The whole log of a task, through OpenBao. */
export async function taskLog(b: PluginBao, mount: string, id: string): Promise<string> {
  return b.must(['read', '-field=result', `${mount}/task/${id}/log`, 'limit=0']);
}

/** Wait until `mount`'s status records `commit` as the last successful one. */
export async function waitForDeployed(b: PluginBao, mount: string, commit: string): Promise<void> {
  await waitFor(
    `${mount} to deploy ${commit}`,
    async () => (await readData(b, `${mount}/status`)).last_successful_commit === commit,
    120_000,
  );
}

/** Containers (running or not) whose labels carry `task`. */
export function containersOfTask(task: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=flant-gitops.task=${task}`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}
