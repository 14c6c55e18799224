/**
 * Open the Store the service config names: files under the data dir (the embedded default), or
 * a Vault/OpenBao KV v2 mount (several replicas sharing the work).
 */
import { dataLayout } from '../config/data-layout.js';
import { isSecretStoreKey } from '../config/mount-settings.js';
import { keyInMount, StorageKeys } from '../config/stored.js';
import { parseSealKey } from '../config/rules/seal-key.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ServiceConfig, StorageConfig } from '../config/service-config.js';
import { createKvClient } from '../vault/kv-client.js';
import { openFileStore } from './file-store.js';
import { memoizedStore } from './memo-store.js';
import { prepareSeal, sealedStore, type SealReport } from './sealed-store.js';
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

/** A data dir's store and what preparing its seal did. */
export interface DataDirStore {
  readonly store: Store;
  /** Whether secrets are sealed at rest (a seal key was given). */
  readonly sealed: boolean;
  readonly report: SealReport;
}

/**
 * The file Store of a data directory; its secret settings sealed with `sealKeyText` (the seal
 * key file's base64) when given. Refuses a wrong key, or a sealed store without a key.
 */
export async function openDataDirStore(
  dataDir: string,
  sealKeyText?: string,
): Promise<DataDirStore> {
  const raw = await openFileStore(dataLayout(dataDir).store);
  const parsed = sealKeyText === undefined ? undefined : parseSealKey(sealKeyText);
  if (typeof parsed === 'string') throw new AppError('INVALID_INPUT', `the seal key ${parsed}`);
  const report = await prepareSeal(raw, parsed, isSecretStoreKey);
  return {
    store: sealedStore(raw, { sealKey: parsed, isSecret: isSecretStoreKey }),
    sealed: parsed !== undefined,
    report,
  };
}

/**
 * The Store the service config names. With the file store it says at start whether secrets are
 * sealed at rest; the KV store is never sealed by us (Vault encrypts what it stores, behind its
 * own barrier), so a seal key given with it is reported as unused.
 */
export async function openConfiguredStore(cfg: ServiceConfig, logger?: Logger): Promise<Store> {
  if (cfg.storage.kind === 'vault-kv') {
    if (cfg.sealKey !== undefined) {
      logger?.info({}, 'seal key not used: the Vault KV store encrypts secrets at rest itself');
    }
    return openKvStore(cfg.storage);
  }
  const opened = await openDataDirStore(cfg.dataDir, cfg.sealKey);
  if (!opened.sealed) {
    logger?.warn(
      { dataDir: cfg.dataDir },
      'secrets are stored in clear in the data dir (files 0600); give --seal-key-file to seal them',
    );
  } else {
    logger?.info(
      { sealedNow: opened.report.sealed, firstSeal: opened.report.checkWritten },
      'secrets are sealed at rest (AES-256-GCM)',
    );
  }
  // This process alone writes its data dir: each mount's last successful commit, read by every
  // poll, is kept in memory (./memo-store.ts).
  return memoizedStore(opened.store, isLastCommitKey);
}

/** `mounts/<mount>/last_successful_commit` of any mount. */
export function isLastCommitKey(key: string): boolean {
  return keyInMount(key) === StorageKeys.lastSuccessfulCommit;
}
