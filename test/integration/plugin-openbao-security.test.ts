/**
 * What running inside OpenBao buys: OpenBao's own ACL decides (a read-only policy gets 403 on a
 * write, before the plugin sees it), its audit device records every request with values
 * HMAC-ed, and no secret written to the mount appears in clear in the audit log, OpenBao's log
 * (which carries the plugin's stderr), the plugin's own log file, or any file under the plugin's
 * data dir.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bao } from '../helpers/openbao.js';
import { createRealGoodBodies, type RealGoodBodies } from '../helpers/plugin-good-bodies.js';
import { startPluginOpenBao, type PluginOpenBao } from '../helpers/plugin-openbao.js';

const exe = inject('pluginExecutable');
const target = inject('openbao');
let ob: PluginOpenBao;
let real: RealGoodBodies;
let auditLog = '';
const PASSWORD = 'git-password-in-plugin-7781';
const SSH_KEY = 'ssh-key-material-in-plugin-4410';
const HOOK_SECRET = 'webhook-secret-in-plugin-9052';

async function must(
  args: string[],
  opts: { stdin?: string; token?: string } = {},
): Promise<string> {
  const who = { addr: ob.addr, token: opts.token ?? ob.token };
  const r = await bao(who, args, opts.stdin === undefined ? {} : { stdin: opts.stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Every regular file below `dir`, recursively. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesBelow(p) : [p];
  });
}

beforeAll(async () => {
  ob = await startPluginOpenBao(exe, ['flant_gitops']);
  real = await createRealGoodBodies(target);
  auditLog = ob.auditLog;
});

afterAll(async () => {
  await ob?.stop();
  await real?.cleanup();
});

describe('OpenBao guards the plugin', () => {
  it("a token whose policy allows only read on flant_gitops/* gets OpenBao's 403 on a write", async () => {
    await must(['write', 'flant_gitops/task/configure', 'task_timeout=5m']);
    await must(['policy', 'write', 'fg-read-only', '-'], {
      stdin: 'path "flant_gitops/*" { capabilities = ["read"] }',
    });
    const token = await must(['token', 'create', '-policy=fg-read-only', '-field=token']);
    const read = await must(['read', '-format=json', 'flant_gitops/task/configure'], { token });
    expect(JSON.parse(read).data).toMatchObject({ task_timeout: 300 });
    const write = await bao({ addr: ob.addr, token }, [
      'write',
      'flant_gitops/task/configure',
      'task_timeout=1m',
    ]);
    expect(write.code).toBe(2);
    expect(write.stderr).toContain('Code: 403');
    expect(write.stderr).toContain('permission denied');
    expect(
      JSON.parse(await must(['read', '-format=json', 'flant_gitops/task/configure'])).data,
    ).toMatchObject({ task_timeout: 300 });
  });

  it('the audit device records requests with values HMAC-ed, and no secret leaks anywhere', async () => {
    await real.newOperatorSecretId();
    const access = real.good('vault-access');
    await must(['write', 'flant_gitops/configure_vault_access', '-'], {
      stdin: JSON.stringify(access),
    });
    await must([
      'write',
      'flant_gitops/configure/git_credential',
      'username=u',
      `password=${PASSWORD}`,
    ]);
    await must(['write', 'flant_gitops/configure/git_ssh_key', '-'], {
      stdin: JSON.stringify({
        private_key: `-----BEGIN OPENSSH PRIVATE KEY-----\n${SSH_KEY}\n-----END OPENSSH PRIVATE KEY-----\n`,
        known_hosts: 'git.example.com ssh-ed25519 AAAAC3Nza',
      }),
    });
    await must([
      'write',
      'flant_gitops/configure/webhook/github',
      'source=github',
      `secret=${HOOK_SECRET}`,
    ]);
    await must(['read', 'flant_gitops/configure/git_credential']);

    // The secret id the plugin minted for itself, as stored (decrypted) in OpenBao's barrier.
    const raw = await ob.rawSnapshot('flant_gitops');
    const ownSecretId = /"secret_id":"([^"]+)"/.exec(raw)?.[1] ?? '';
    expect(ownSecretId).not.toBe('');
    expect(raw).toContain(PASSWORD); // it is stored (barrier-encrypted), just never shown
    const secrets = [PASSWORD, SSH_KEY, HOOK_SECRET, String(access['secret_id']), ownSecretId];

    const audit = readFileSync(auditLog, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            request?: { path?: string; data?: Record<string, string> };
          },
      );
    const entry = audit.find(
      (e) =>
        e.type === 'request' &&
        e.request?.path === 'flant_gitops/configure/git_credential' &&
        e.request.data?.['password'],
    );
    expect(entry?.request?.data?.['password']).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    const places: [string, string][] = [
      ['audit log', readFileSync(auditLog, 'utf8')],
      ["OpenBao's log", readFileSync(ob.logFile, 'utf8')],
      ["the plugin's log file", readFileSync(ob.pluginLogFile, 'utf8')],
      ...filesBelow(ob.dataDir).map((f): [string, string] => [f, readFileSync(f, 'latin1')]),
    ];
    // Not vacuous: the plugin's lines reach OpenBao's log, and the plugin logged the writes.
    expect(places[1]?.[1]).toContain('api request');
    expect(places[2]?.[1]).toContain('configure/git_credential');
    for (const [where, text] of places) {
      for (const s of secrets) expect(text.includes(s), `${where} contains a secret`).toBe(false);
    }
  });
});
