/**
 * Good bodies that REAL services accept, for tests of the plugin (which runs the real openpgp
 * KeyInspector and the real AppRole VaultAccessService): a trusted key made by real gpg, and
 * AppRole access to a real OpenBao on loopback with a known role id. configure_vault_access
 * destroys the operator's secret id after use, so each write needs a fresh one.
 */
import { randomBytes } from 'node:crypto';
import { goodBody } from './api-app.js';
import type { GoodName } from './api-validation-table.js';
import { createGpgHome, exportPublicKey, generateKey, type GpgHome } from './gpg.js';
import { bao } from './openbao.js';

/** Real good bodies and the means to renew the one-use parts. */
export interface RealGoodBodies {
  good(name: GoodName): Record<string, unknown>;
  /** Make a new operator secret id (the next vault-access body carries it). */
  newOperatorSecretId(): Promise<void>;
  cleanup(): Promise<void>;
}

async function must(target: { addr: string; token: string }, args: string[], stdin?: string) {
  const r = await bao(target, args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Set up AppRole on `target` and a gpg key; bodies are ready after this resolves. */
export async function createRealGoodBodies(target: {
  addr: string;
  token: string;
}): Promise<RealGoodBodies> {
  const id = randomBytes(4).toString('hex');
  const approle = `approle-plugin-${id}`;
  const roleId = `fg-plugin-role-${id}`;
  await must(target, ['auth', 'enable', `-path=${approle}`, 'approle']);
  await must(
    target,
    ['policy', 'write', `fg-plugin-${id}`, '-'],
    `path "auth/${approle}/role/r/secret-id" { capabilities = ["update"] }
path "auth/${approle}/role/r/secret-id/destroy" { capabilities = ["update"] }`,
  );
  await must(target, [
    'write',
    `auth/${approle}/role/r`,
    `token_policies=fg-plugin-${id}`,
    'token_ttl=120',
    'secret_id_ttl=7200',
  ]);
  await must(target, ['write', `auth/${approle}/role/r/role-id`, `role_id=${roleId}`]);
  let secretId = '';

  const home: GpgHome = await createGpgHome();
  const key = await generateKey(home, { name: 'Alice', email: `alice-${id}@example.com` });
  const publicKey = await exportPublicKey(home, key);

  return {
    good(name) {
      if (name === 'trusted-key') return { name: 'alice', public_key: publicKey };
      if (name === 'vault-access') {
        return {
          vault_addr: target.addr,
          vault_tls_server_name: 'localhost',
          role_name: 'r',
          role_id: roleId,
          secret_id: secretId || 'no-secret-id-yet',
          secret_id_ttl: '120m',
          approle_mount_point: `auth/${approle}/`,
          token_ttl: '30s',
        };
      }
      return goodBody(name);
    },
    async newOperatorSecretId() {
      secretId = await must(target, [
        'write',
        '-f',
        '-field=secret_id',
        `auth/${approle}/role/r/secret-id`,
      ]);
    },
    async cleanup() {
      await home.cleanup();
      await bao(target, ['auth', 'disable', approle]);
    },
  };
}
