/**
 * A test harness for the HTTP API: the real buildApp over an in-memory store, with fakes of OUR
 * OWN interfaces only (KeyInspector, VaultAccessService), a known root token, and a snapshot of
 * every stored key so a test can prove that a refused request changed nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { ApiServices } from '../../src/api/types.js';
import { AppError } from '../../src/errors.js';
import { createRootTokenAuthorizer } from '../../src/http/auth.js';
import { silentLogger, type Logger } from '../../src/logging.js';
import type { KeyInfo, KeyInspector } from '../../src/pgp/types.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import type { VaultAccessConfig, VaultAccessService } from '../../src/vault/types.js';
import { FIXTURES } from './bench.js';

/** Root token of test apps. */
export const TEST_ROOT_TOKEN = 'test-root-token-0123456789abcdef';
/** The secret id the fake access service stores instead of the operator's. */
export const SERVICE_SECRET_ID = 'service-own-secret-id-77aa21';

/** A good body from fixtures/api/good/<name>.json. */
export function goodBody(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, 'api', 'good', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** Fake KeyInspector: a "key" is good when it is armored and contains FAKE-GOOD-KEY. */
export function fakeKeyInspector(): KeyInspector {
  return {
    async inspect(armored: string): Promise<KeyInfo> {
      if (
        !armored.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') ||
        !armored.includes('FAKE-GOOD-KEY')
      ) {
        throw new AppError('PGP_INVALID', 'not an OpenPGP public key');
      }
      return {
        primaryFingerprint: 'A'.repeat(40),
        subkeyFingerprints: ['B'.repeat(40)],
        userIds: ['Alice <alice@example.com>'],
        algorithm: 'eddsa',
        created: '2024-01-01T00:00:00.000Z',
        expires: null,
        revoked: false,
      };
    },
  };
}

/** Fake VaultAccessService: role_id "bad-role" fails login; otherwise stores our own secret id. */
export function fakeVaultAccess(): VaultAccessService & { configured: VaultAccessConfig[] } {
  const configured: VaultAccessConfig[] = [];
  return {
    configured,
    async configure(cfg, save) {
      if (cfg.role_id === 'bad-role')
        throw new AppError(
          'INVALID_INPUT',
          'vault_access: login with role_id and secret_id failed',
        );
      configured.push(cfg);
      await save({ ...cfg, secret_id: SERVICE_SECRET_ID });
    },
    async client() {
      throw new AppError('NOT_CONFIGURED', 'not in unit tests');
    },
  };
}

/** A built test app and what it was built from. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly services: ApiServices;
  /** Every stored key and its JSON value, sorted (for before/after comparisons). */
  snapshot(): Promise<string>;
}

/** All keys below `prefix` in a store, recursively. */
export async function allKeys(store: Store, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of await store.list(prefix)) {
    if (name.endsWith('/')) out.push(...(await allKeys(store, prefix + name)));
    else out.push(prefix + name);
  }
  return out;
}

/** Build the real app with fakes of our interfaces and an in-memory store. */
export function makeTestApp(
  opts: { mounts?: string[]; logger?: Logger; store?: Store } = {},
): TestApp {
  const store = opts.store ?? createMemoryStore();
  const services: ApiServices = {
    keyInspector: fakeKeyInspector(),
    vaultAccess: fakeVaultAccess(),
  };
  const app = buildApp({
    store,
    mounts: opts.mounts ?? ['flant_gitops'],
    services,
    authorizer: createRootTokenAuthorizer(TEST_ROOT_TOKEN),
    logger: opts.logger ?? silentLogger(),
  });
  return {
    app,
    store,
    services,
    async snapshot() {
      const keys = await allKeys(store);
      const entries = await Promise.all(keys.map(async (k) => [k, await store.get(k)] as const));
      return JSON.stringify(entries);
    },
  };
}
