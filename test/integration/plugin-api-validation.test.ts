/**
 * The validation table the HTTP service passes (test/unit/api-validation.test.ts), run over the
 * OpenBao plugin: the built executable inside the bench's real OpenBao, requests through
 * OpenBao's own HTTP API with its token, real services (openpgp, AppRole on a real OpenBao).
 * "Stores nothing" is checked on OpenBao's decrypted storage of the mount (sys/raw).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { goodBody } from '../helpers/api-app.js';
import { validationSuite, type ValidationTransport } from '../helpers/api-validation-suite.js';
import { SEEDS, type GoodBody } from '../helpers/api-validation-table.js';
import { bao } from '../helpers/openbao.js';
import { startPluginOpenBao, type PluginOpenBao } from '../helpers/plugin-openbao.js';
import { createRealGoodBodies, type RealGoodBodies } from '../helpers/plugin-good-bodies.js';

const exe = inject('pluginExecutable');
const target = inject('openbao');
let ob: PluginOpenBao;
let real: RealGoodBodies;
let seeded = false;

async function http(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${ob.addr}/v1/flant_gitops/${path}`, {
    method,
    headers: { 'X-Vault-Token': ob.token },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const overPlugin: ValidationTransport = {
  services: 'real',
  async prepare() {
    if (seeded) return; // one OpenBao for the file; refused writes change nothing anyway
    for (const [path, name] of SEEDS) {
      if (name === 'vault-access') await real.newOperatorSecretId();
      const r = await http('PUT', path, real.good(name));
      if (r.status !== 204) throw new Error(`seed ${path}: ${r.status} ${await r.text()}`);
    }
    seeded = true;
  },
  async write(path, body) {
    const r = await http('PUT', path, body);
    const text = await r.text();
    return {
      status: r.status,
      errors: text === '' ? [] : ((JSON.parse(text) as { errors?: string[] }).errors ?? []),
    };
  },
  async list(path) {
    const r = await bao(ob, ['list', '-format=json', `flant_gitops/${path}`]);
    return r.code === 0 ? (JSON.parse(r.stdout) as string[]) : [];
  },
  snapshot: () => ob.rawSnapshot('flant_gitops'),
};

beforeAll(async () => {
  ob = await startPluginOpenBao(exe, ['flant_gitops']);
  real = await createRealGoodBodies(target);
});

afterAll(async () => {
  await ob?.stop();
  await real?.cleanup();
});

describe('over the OpenBao plugin: a write that breaks a rule is refused with 400, names field and rule, and stores nothing', () => {
  validationSuite(
    () => overPlugin,
    (): GoodBody => (name) => real?.good(name) ?? goodBody(name),
  );
});

describe('the storage snapshot the table compares', () => {
  it('holds every seeded entry, decrypted, at the root of the mount (so "unchanged" means something)', async () => {
    await overPlugin.prepare();
    const keys = (await ob.rawSnapshot('flant_gitops')).split('\n').map((l) => l.split('=', 1)[0]);
    expect(keys).toEqual(
      expect.arrayContaining([
        'configuration',
        'vault_request/app',
        'configure_vault_access',
        'trusted_pgp_public_key/alice',
        'configuration_git_credential',
        'configuration_git_ssh_key',
      ]),
    );
  });
});
