#!/usr/bin/env node
/**
 * The CLI: parse flags and the environment into the frozen service config and pick a command.
 * `flant-gitops serve …` hands that config to `startService` (src/service.ts, the composition
 * root, which builds every adapter and listens); `flant-gitops --help` prints the usage.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { loadServiceConfig, type ServiceConfig } from './config/service-config.js';
import { isAppError } from './errors.js';
import { createLogger, type Logger } from './logging.js';
import { startService } from './service.js';
import { newSealKeyText } from './config/rules/seal-key.js';
import { copyStore } from './storage/copy.js';
import { openDataDirStore, openKvStore } from './storage/open.js';

/** Usage text of the CLI. */
export const USAGE = `Usage:
  flant-gitops serve [--listen HOST:PORT] [--data-dir DIR] [--root-token-file FILE]
                     [--mount NAME]... [--auth-vault-addr URL] [--log-level LEVEL]
                     [--container-network MODE] [--docker-socket PATH]
                     [--flux-recv-config FILE] [--tick-seconds N]
                     [--git-safe-directory PATH]... [--git-concurrency N]
                     [--seal-key-file FILE]
  flant-gitops hook-url --secret-file FILE
  flant-gitops copy-store --to vault-kv|files [--data-dir DIR] [--seal-key-file FILE]
                          [--kv-… options]
  flant-gitops seal-key    print a new seal key (base64 of 32 random bytes) for --seal-key-file
  flant-gitops signatures add|push|show …   (flant-gitops signatures --help)
  flant-gitops --help

Options (each also from the environment; flags win):
  --listen HOST:PORT       FLANT_GITOPS_LISTEN           default 127.0.0.1:8080
  --data-dir DIR           FLANT_GITOPS_DATA_DIR         default ./data
  --root-token-file FILE   FLANT_GITOPS_ROOT_TOKEN_FILE  default <data-dir>/root-token
  --mount NAME (repeat)    FLANT_GITOPS_MOUNTS (a,b)     default flant_gitops
  --auth-vault-addr URL    FLANT_GITOPS_AUTH_VAULT_ADDR  delegate authorization to this Vault
  --log-level LEVEL        FLANT_GITOPS_LOG_LEVEL        debug|info|warn|error|silent, default info
  --container-network MODE FLANT_GITOPS_CONTAINER_NETWORK network of the command containers,
                                                         default bridge (host, none, a name)
  --docker-socket PATH     FLANT_GITOPS_DOCKER_SOCKET    default /var/run/docker.sock
  --flux-recv-config FILE  FLANT_GITOPS_FLUX_RECV_CONFIG flux-recv endpoints (trigger all mounts)
  --tick-seconds N         FLANT_GITOPS_TICK_SECONDS     scheduler tick, 1..60, default 5
  --git-safe-directory PATH (repeat)  FLANT_GITOPS_GIT_SAFE_DIRECTORIES (a,b)
                           a local repository owned by another user that git may read (* = all)
  --git-concurrency N      FLANT_GITOPS_GIT_CONCURRENCY  git processes alive at once, all mounts
                                                         together, 1..256, default 8
  --seal-key-file FILE     FLANT_GITOPS_SEAL_KEY_FILE    seal secrets at rest in the data dir with
                           this key (base64 of 32 bytes; keep it outside the data dir)
`;

/**
 * V8's `--optimize-for-size` for the long-running service, unless the node command line says
 * otherwise: the heap grows less eagerly and gives memory back sooner, which keeps an idle
 * service's resident set ~10 MiB smaller (BENCHMARKS.md 6) and a busy 1,000-mount one ~60 MiB
 * smaller (BENCHMARKS.md 12), at the price of more and, at that scale, longer GC pauses. Node does
 * not accept the flag in NODE_OPTIONS, so the service sets it itself, for every way it is run
 * (image, npm, `node dist/main.js`); it acts on the heap from then on.
 */
export function applyServiceV8Flags(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--(no-)?optimize[-_]for[-_]size$/.test(a))) return false;
  setFlagsFromString('--optimize-for-size');
  return true;
}

/** Start the service; resolves once it listens, returns a function that stops it. */
export async function serve(cfg: ServiceConfig, logger: Logger): Promise<() => Promise<void>> {
  const service = await startService(cfg, logger);
  return () => service.stop();
}

/**
 * `flant-gitops hook-url --secret-file FILE`: print the hook path of a shared secret, the hex
 * SHA-256 of the file's bytes (what `sha256sum FILE` prints), never the secret itself.
 */
async function hookUrl(args: readonly string[]): Promise<number> {
  let file: string | undefined;
  try {
    file = parseArgs({
      args: [...args],
      options: { 'secret-file': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values['secret-file'];
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!file) {
    process.stderr.write(`hook-url: --secret-file is required\n\n${USAGE}`);
    return 2;
  }
  let secret: Buffer;
  try {
    secret = await readFile(file);
  } catch (e) {
    process.stderr.write(`hook-url: cannot read ${file}: ${(e as NodeJS.ErrnoException).code}\n`);
    return 1;
  }
  if (secret.length === 0) {
    process.stderr.write(`hook-url: ${file} is empty; a webhook secret must not be empty\n`);
    return 1;
  }
  process.stdout.write(`/hook/${createHash('sha256').update(secret).digest('hex')}\n`);
  return 0;
}

/**
 * `flant-gitops copy-store --to vault-kv|files [--data-dir DIR] [--kv-… flags]`: copy every key
 * between the data dir's file store and a Vault KV v2 store (both ways, idempotent). Values are
 * never printed; the report is a count.
 */
async function copyStoreCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const i = args.indexOf('--to');
  const to = i >= 0 ? args[i + 1] : undefined;
  if (to !== 'vault-kv' && to !== 'files') {
    process.stderr.write(`copy-store: --to must be vault-kv or files\n\n${USAGE}`);
    return 2;
  }
  const rest = args.filter((_, j) => j !== i && j !== i + 1);
  let cfg: ServiceConfig;
  try {
    cfg = loadServiceConfig([...rest, '--storage', 'vault-kv'], env);
  } catch (e) {
    const errors = configErrors(e);
    process.stderr.write(`invalid configuration:\n${errors.map((x) => `  - ${x}`).join('\n')}\n`);
    return 2;
  }
  if (cfg.storage.kind !== 'vault-kv') return 2;
  let files;
  try {
    files = (await openDataDirStore(cfg.dataDir, cfg.sealKey)).store;
  } catch (e) {
    process.stderr.write(`copy-store: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const kv = openKvStore(cfg.storage);
  const [from, into] = to === 'vault-kv' ? [files, kv] : [kv, files];
  try {
    const r = await copyStore(from, into);
    process.stdout.write(
      `copied to ${to}: ${r.keys} keys, ${r.written} written, ${r.unchanged} already equal\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`copy-store failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

function configErrors(e: unknown): string[] {
  return isAppError(e) && Array.isArray(e.details?.['errors'])
    ? (e.details['errors'] as string[])
    : [String(e)];
}

/** Run the CLI with `argv` (without node and script); returns the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'hook-url') return hookUrl(rest);
  if (command === 'copy-store') return copyStoreCommand(rest, env);
  if (command === 'seal-key') {
    process.stdout.write(newSealKeyText());
    return 0;
  }
  // Loaded on use: the approvers' CLI brings simple-git, which `serve` never needs (its git runs
  // in the git host process).
  if (command === 'signatures') {
    const { signaturesCommand } = await import('./signatures/cli.js');
    return signaturesCommand(rest, env);
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
    const errors = configErrors(e);
    process.stderr.write(
      `invalid configuration:\n${errors.map((x) => `  - ${x}`).join('\n')}\n\n${USAGE}`,
    );
    return 2;
  }
  applyServiceV8Flags();
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
