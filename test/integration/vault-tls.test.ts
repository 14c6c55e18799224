/**
 * Target-Vault TLS: a second, real OpenBao serves a certificate for `vault.fg.test` from a
 * throw-away CA; the service connects to 127.0.0.1 and must verify the CA and that name.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { createVaultAccessService } from '../../src/vault/access.js';
import type { SecretsClient, VaultAccessConfig } from '../../src/vault/types.js';
import { bao, startOpenBao, type OpenBao } from '../helpers/openbao.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

const NAME = 'vault.fg.test';
const mount = `auth/approle-tls-${randomBytes(4).toString('hex')}`;
let pki: TestPki;
let server: OpenBao;
let base: VaultAccessConfig;

async function must(args: string[], stdin?: string): Promise<string> {
  const r = await bao(server, args, stdin === undefined ? {} : { stdin });
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  pki = makeTestPki(NAME);
  server = await startOpenBao({ tls: pki });
  await must(['auth', 'enable', `-path=${mount.slice('auth/'.length)}`, 'approle']);
  await must(
    ['policy', 'write', 'fg-tls', '-'],
    `path "${mount}/role/r/secret-id" { capabilities = ["update"] }
path "${mount}/role/r/secret-id/destroy" { capabilities = ["update"] }
path "secret/data/tls/*" { capabilities = ["read"] }`,
  );
  await must([
    'write',
    `${mount}/role/r`,
    'token_policies=fg-tls',
    'token_ttl=60',
    'secret_id_ttl=3600',
  ]);
  await must(['kv', 'put', 'secret/tls/app', 'answer=42']);
  base = {
    vault_addr: server.addr,
    vault_tls_server_name: NAME,
    vault_cacert: pki.caPem,
    role_name: 'r',
    role_id: await must(['read', '-field=role_id', `${mount}/role/r/role-id`]),
    secret_id: '',
    secret_id_ttl: 3600,
    approle_mount_point: mount,
    token_ttl: 60,
  };
});

afterAll(async () => {
  await server?.stop();
});

async function operatorSecretId(): Promise<string> {
  return must(['write', '-f', '-field=secret_id', `${mount}/role/r/secret-id`]);
}

describe('target Vault over TLS', () => {
  it('the server serves the test certificate over https', async () => {
    // Ask the server itself: a TLS handshake that trusts only the test CA, for NAME.
    const url = new URL(server.addr);
    const peer = await new Promise<{ authorized: boolean; altNames: string; fingerprint: string }>(
      (resolveP, reject) => {
        const socket = tlsConnect(
          { host: url.hostname, port: Number(url.port), ca: pki.caPem, servername: NAME },
          () => {
            const cert = socket.getPeerCertificate();
            resolveP({
              authorized: socket.authorized,
              altNames: cert.subjectaltname ?? '',
              fingerprint: cert.fingerprint256,
            });
            socket.end();
          },
        );
        socket.once('error', reject);
      },
    );
    expect(peer.authorized).toBe(true);
    expect(peer.altNames).toContain(`DNS:${NAME}`);
    expect(peer.fingerprint).toBe(new X509Certificate(pki.certPem).fingerprint256);
  });

  let client: SecretsClient | undefined;

  it('works with vault_cacert and the certificate name as vault_tls_server_name', async () => {
    let stored: VaultAccessConfig | undefined;
    const svc = createVaultAccessService({ logger: silentLogger(), attempts: 1 });
    const cfg = { ...base, secret_id: await operatorSecretId() };
    await svc.configure(cfg, async (c) => {
      stored = c;
    });
    expect(stored?.secret_id).not.toBe(cfg.secret_id);
    client = await svc.client(
      async () => stored,
      async (c) => {
        stored = c;
      },
    );
    const w = await client.wrappedRequest({
      name: 'app',
      path: '/v1/secret/data/tls/app',
      method: 'GET',
      options: {},
      wrap_ttl: 60,
    });
    const out = await bao(server, ['unwrap', '-format=json', w.token]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).data.data).toEqual({ answer: '42' });
  });

  const bad: { name: string; change: Partial<VaultAccessConfig>; message: RegExp }[] = [
    {
      name: 'fails without the CA',
      change: { vault_cacert: '' },
      message: /TLS connection to Vault failed.*(self[- ]signed|verify|issuer)/i,
    },
    {
      name: 'fails with a wrong vault_tls_server_name',
      change: { vault_tls_server_name: 'other.fg.test' },
      message: /TLS connection to Vault failed.*other\.fg\.test/,
    },
  ];
  for (const c of bad) {
    it(`${c.name}, naming the step and storing nothing`, async () => {
      const secretId = await operatorSecretId();
      const svc = createVaultAccessService({ logger: silentLogger(), attempts: 1 });
      let saved = false;
      const err = await svc
        .configure({ ...base, secret_id: secretId, ...c.change }, async () => {
          saved = true;
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isAppError(err, 'VAULT_UNREACHABLE')).toBe(true);
      expect(isAppError(err) && err.next).toBe('user');
      expect((err as Error).message).toMatch(/^AppRole login/);
      expect((err as Error).message).toMatch(c.message);
      expect((err as Error).message).not.toContain(secretId);
      expect(saved).toBe(false);
    });
  }

  it('a request to a Vault that went away fails naming the request, as unreachable', async () => {
    expect(client).toBeDefined();
    await server.stop();
    const err = await client!
      .wrappedRequest({
        name: 'gone',
        path: '/v1/secret/data/tls/app',
        method: 'GET',
        options: {},
        wrap_ttl: 60,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAppError(err, 'VAULT_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /^vault request "gone" \(GET \/v1\/secret\/data\/tls\/app\) failed: Vault is unreachable \(ECONNREFUSED\)/,
    );
  });
});
