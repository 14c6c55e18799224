/**
 * The plugin's Store (entry-store over the gRPC pb.Storage client) against the shared store
 * contract, over real gRPC with mTLS to the fake host's in-memory pb.Storage — the same client
 * code the executable uses against OpenBao's brokered storage. (The contract also runs against
 * OpenBao's own storage, through a mount: plugin-openbao-store.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { createLocalhostCertificate, type PluginCertificate } from '../../src/plugin/cert.js';
import { clientFor, protocolServices, UNLIMITED_MESSAGES } from '../../src/plugin/proto.js';
import { grpcRawStorage } from '../../src/plugin/storage-client.js';
import { openEntryStore } from '../../src/storage/entry-store.js';
import type { Store } from '../../src/storage/store.js';
import { memoryPbStorage, type MemoryPbStorage } from '../helpers/memory-pb-storage.js';
import { storeContract } from '../helpers/store-contract.js';

let dir = '';
let host: PluginCertificate;
let plugin: PluginCertificate;
const servers: MemoryPbStorage[] = [];
const clients: grpc.Client[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-plugin-store-'));
  host = await createLocalhostCertificate({ curve: 'P-521' });
  plugin = await createLocalhostCertificate();
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh storage server and a plugin-side Store dialled to it with mTLS. */
async function open(): Promise<{ store: Store; server: MemoryPbStorage }> {
  const server = await memoryPbStorage(join(dir, `s${servers.length}.sock`), host, plugin.certPem);
  servers.push(server);
  const Storage = clientFor(protocolServices().storage, 'pb.Storage');
  const creds = grpc.credentials.createSsl(
    Buffer.from(host.certPem),
    Buffer.from(plugin.keyPem),
    Buffer.from(plugin.certPem),
  );
  const client = new Storage(`unix://${server.socketPath}`, creds, {
    ...UNLIMITED_MESSAGES,
    'grpc.ssl_target_name_override': 'localhost',
  });
  clients.push(client);
  return { store: openEntryStore(grpcRawStorage(client)), server };
}

describe('the plugin store over pb.Storage (fake host)', () => {
  storeContract(async () => (await open()).store);

  it('a storage `err` string is STORAGE_FAILED; a foreign entry is refused, not misread', async () => {
    const { store, server } = await open();
    server.failNext('physical: i/o error');
    await expect(store.get('configuration')).rejects.toSatisfy((e) =>
      isAppError(e, 'STORAGE_FAILED'),
    );
    server.data.set('configuration', Buffer.from('{"git_repo_url":"x"}'));
    await expect(store.get('configuration')).rejects.toSatisfy((e) =>
      isAppError(e, 'STORAGE_FAILED'),
    );
  });

  it('keeps a value of several MiB (no 4 MiB gRPC limit)', async () => {
    const { store } = await open();
    const big = 'x'.repeat(6 * 1024 * 1024);
    await store.put('task_log/big', big);
    expect((await store.get('task_log/big'))?.value).toBe(big);
  });
});
