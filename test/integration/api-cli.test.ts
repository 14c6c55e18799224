/**
 * The CLI suite (test/helpers/api-cli-suite.ts) over the HTTP service: buildApp over a file
 * store, the real KeyInspector and VaultAccessService, embedded root-token auth, on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import type { ApiServices } from '../../src/api/types.js';
import { createRootTokenAuthorizer } from '../../src/http/auth.js';
import { silentLogger } from '../../src/logging.js';
import { createOpenPgpKeyInspector } from '../../src/pgp/openpgp.js';
import { openFileStore } from '../../src/storage/file-store.js';
import { createVaultAccessService } from '../../src/vault/access.js';
import { cliSuite } from '../helpers/api-cli-suite.js';

const TOKEN = `api-cli-root-${randomBytes(16).toString('hex')}`;

cliSuite(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-api-cli-http-'));
  const store = await openFileStore(join(dir, 'data'));
  const keyInspector = createOpenPgpKeyInspector();
  const services = new Map<string, ApiServices>(
    ['flant_gitops', 'flant-gitops'].map((m) => [
      m,
      { keyInspector, vaultAccess: createVaultAccessService({ logger: silentLogger() }) },
    ]),
  );
  const app = buildApp({
    store,
    mounts: ['flant_gitops', 'flant-gitops'],
    services: (m) => services.get(m)!,
    authorizer: createRootTokenAuthorizer(TOKEN),
    logger: silentLogger(),
  });
  const addr = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    target: { addr, token: TOKEN },
    async stop() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
