/**
 * Open the Store the service config names: files under the data dir (the embedded default), or
 * a Vault/OpenBao KV v2 mount (several replicas sharing the work).
 */
import { dataLayout } from '../config/data-layout.js';
import type { ServiceConfig, StorageConfig } from '../config/service-config.js';
import { createKvClient } from '../vault/kv-client.js';
import { openFileStore } from './file-store.js';
import type { Store } from './store.js';
import { openVaultKvStore } from './vault-kv-store.js';

/** A KV v2 Store for `storage` (sends nothing until first use). */
export function openKvStore(storage: Extract<StorageConfig, { kind: 'vault-kv' }>): Store {
  const client = createKvClient({
    endpoint: {
      addr: storage.addr,
      caPem: storage.caPem ?? '',
      serverName: storage.serverName ?? '',
    },
    mount: storage.mount,
    auth: storage.auth,
  });
  return openVaultKvStore({ client, prefix: storage.prefix });
}

/** The file Store of a data directory. */
export function openDataDirStore(dataDir: string): Promise<Store> {
  return openFileStore(dataLayout(dataDir).store);
}

/** The Store the service config names. */
export async function openConfiguredStore(cfg: ServiceConfig): Promise<Store> {
  return cfg.storage.kind === 'vault-kv' ? openKvStore(cfg.storage) : openDataDirStore(cfg.dataDir);
}
