/**
 * The shared store contract against OpenBao's own storage: a probe plugin (the real runtime,
 * backend and Store, serving only test/helpers/store-probe-plugin.ts's path) is built like
 * `make plugin`, mounted in the bench's real OpenBao, and every Store call of the contract goes
 * through OpenBao to the plugin and from there over the brokered pb.Storage into the barrier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlugin } from '../../scripts/build-plugin.js';
import { AppError } from '../../src/errors.js';
import { scopedStore, type Store } from '../../src/storage/store.js';
import { startPluginOpenBao, type PluginOpenBao } from '../helpers/plugin-openbao.js';
import { storeContract } from '../helpers/store-contract.js';

let dir = '';
let ob: PluginOpenBao;
let opened = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-store-probe-'));
  const exe = join(dir, 'flant_gitops');
  await buildPlugin(exe, join(import.meta.dirname, '..', 'helpers', 'store-probe-plugin.ts'));
  ob = await startPluginOpenBao(exe, ['probe']);
});

afterAll(async () => {
  await ob?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One Store call through OpenBao's HTTP API to the probe path. */
async function probe(op: string, body: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`${ob.addr}/v1/probe/probe/${op}`, {
    method: 'PUT',
    headers: { 'X-Vault-Token': ob.token },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as { data?: { result: unknown }; errors?: string[] };
  if (r.status === 200) return json.data?.result;
  const why = (json.errors ?? []).join('; ');
  if (r.status === 409) throw new AppError('CONFLICT', why);
  if (r.status === 500) throw new AppError('INTERNAL', why);
  throw new AppError('STORAGE_FAILED', `${r.status}: ${why}`);
}

/** A Store whose every call is served by the plugin inside OpenBao. */
const throughOpenBao: Store = {
  get: async <T>(key: string) =>
    ((await probe('get', { key })) ?? undefined) as { value: T; version: number } | undefined,
  put: async (key, value, opts = {}) =>
    (await probe('put', {
      key,
      value,
      ...(opts.cas === undefined ? {} : { cas: opts.cas }),
    })) as number,
  list: async (prefix) => (await probe('list', { prefix })) as string[],
  delete: async (key) => {
    await probe('delete', { key });
  },
};

describe("the plugin's Store on OpenBao's own storage (through a mount)", () => {
  storeContract(async () => scopedStore(throughOpenBao, `contract${opened++}/`));

  it('entries land in the mount’s barrier view with their version', async () => {
    await throughOpenBao.put('seen/by-raw', { a: 1 });
    expect(await ob.rawSnapshot('probe')).toContain('seen/by-raw={"version":1,"value":{"a":1}}');
  });
});
