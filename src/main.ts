#!/usr/bin/env node
/**
 * The one composition root: read the service config, build the adapters (file store, logger,
 * OpenPGP key inspector, one target-Vault access service per mount, authorizer), build the app
 * and listen. `flant-gitops serve …` runs the service; `flant-gitops --help` prints the usage.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildApp } from './app.js';
import type { ApiServices } from './api/types.js';
import { loadServiceConfig, type ServiceConfig } from './config/service-config.js';
import { isAppError } from './errors.js';
import {
  createDelegatedAuthorizer,
  createRootTokenAuthorizer,
  loadOrCreateRootToken,
  type Authorizer,
} from './http/auth.js';
import { createLogger, type Logger } from './logging.js';
import { createOpenPgpKeyInspector } from './pgp/openpgp.js';
import { openFileStore } from './storage/file-store.js';
import { createVaultAccessService } from './vault/access.js';

/** Usage text of the CLI. */
export const USAGE = `Usage:
  flant-gitops serve [--listen HOST:PORT] [--data-dir DIR] [--root-token-file FILE]
                     [--mount NAME]... [--auth-vault-addr URL] [--log-level LEVEL]
  flant-gitops --help

Options (each also from the environment; flags win):
  --listen HOST:PORT       FLANT_GITOPS_LISTEN           default 127.0.0.1:8080
  --data-dir DIR           FLANT_GITOPS_DATA_DIR         default ./data
  --root-token-file FILE   FLANT_GITOPS_ROOT_TOKEN_FILE  default <data-dir>/root-token
  --mount NAME (repeat)    FLANT_GITOPS_MOUNTS (a,b)     default flant_gitops
  --auth-vault-addr URL    FLANT_GITOPS_AUTH_VAULT_ADDR  delegate authorization to this Vault
  --log-level LEVEL        FLANT_GITOPS_LOG_LEVEL        debug|info|warn|error|silent, default info
`;

async function buildAuthorizer(cfg: ServiceConfig, logger: Logger): Promise<Authorizer> {
  if (cfg.auth.mode === 'delegated') {
    logger.info({ vaultAddr: cfg.auth.vaultAddr }, 'authorization delegated to vault');
    return createDelegatedAuthorizer({ vaultAddr: cfg.auth.vaultAddr, logger });
  }
  return createRootTokenAuthorizer(await loadOrCreateRootToken(cfg.rootTokenFile, logger));
}

/** Start the service; resolves once it listens, returns a function that stops it. */
export async function serve(cfg: ServiceConfig, logger: Logger): Promise<() => Promise<void>> {
  const store = await openFileStore(cfg.dataDir);
  const keyInspector = createOpenPgpKeyInspector();
  const services = new Map<string, ApiServices>(
    cfg.mounts.map((m) => [
      m,
      {
        keyInspector,
        vaultAccess: createVaultAccessService({ logger: logger.child({ mount: m }) }),
      },
    ]),
  );
  const authorizer = await buildAuthorizer(cfg, logger);
  const app = buildApp({
    store,
    mounts: cfg.mounts,
    services: (m) => {
      const s = services.get(m);
      if (!s) throw new Error(`no services for mount ${m}`);
      return s;
    },
    authorizer,
    logger,
  });
  const address = await app.listen({ host: cfg.listen.host, port: cfg.listen.port });
  logger.info(
    { address, mounts: cfg.mounts, dataDir: cfg.dataDir, auth: cfg.auth.mode },
    'listening',
  );
  return async () => {
    await app.close();
  };
}

/** Run the CLI with `argv` (without node and script); returns the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let cfg: ServiceConfig;
  try {
    cfg = loadServiceConfig(rest, env);
  } catch (e) {
    const errors =
      isAppError(e) && Array.isArray(e.details?.['errors'])
        ? (e.details['errors'] as string[])
        : [String(e)];
    process.stderr.write(
      `invalid configuration:\n${errors.map((x) => `  - ${x}`).join('\n')}\n\n${USAGE}`,
    );
    return 2;
  }
  const logger = createLogger({ level: cfg.logLevel });
  let stop: () => Promise<void>;
  try {
    stop = await serve(cfg, logger);
  } catch (e) {
    logger.error({ error: e instanceof Error ? e.message : String(e) }, 'start-up failed');
    return 1;
  }
  return new Promise<number>((resolveExit) => {
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      stop().then(
        () => resolveExit(0),
        (e: unknown) => {
          logger.error({ error: e instanceof Error ? e.message : String(e) }, 'shutdown failed');
          resolveExit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

/** True when this file is the program being run (also through the npm bin symlink). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`fatal: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
