/**
 * Entry point of the OpenBao plugin executable (`make plugin` bundles this file into
 * dist/plugin/flant_gitops). Nothing may reach stdout before the handshake line: go-plugin reads
 * the first stdout line as the handshake, so every log line goes to stderr as hclog JSON.
 *
 * Environment (the server's own environment wins over `bao plugin register -env`):
 *   FLANT_GITOPS_DATA_DIR           local work dir for git mirrors and runs (or `--data-dir=DIR`
 *                                   in the registration's -args); default <tmpdir>/flant_gitops
 *   FLANT_GITOPS_PLUGIN_LOG_LEVEL   debug | info (default) | warn | error
 *   FLANT_GITOPS_PLUGIN_LOG_FILE    also append every log line to this file (development:
 *                                   OpenBao hides a plugin's stderr during registration probes)
 *   FLANT_GITOPS_WEBHOOK_LISTEN     HOST:PORT of the webhook listener (or --webhook-listen=, or
 *                                   the mount option webhook_listen, which wins); none: no hooks
 *   FLANT_GITOPS_LOCAL_REPO_ROOTS   comma-separated directories local repositories (a path or
 *                                   file:// URL) may be read from (or --local-repo-root=DIR,
 *                                   repeatable); none: local repositories are refused
 *   FLANT_GITOPS_TICK_SECONDS, FLANT_GITOPS_CONTAINER_NETWORK, FLANT_GITOPS_DOCKER_SOCKET
 *                                   as for `flant-gitops serve` (each also as --flag=value)
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalRepoPolicy } from '../config/local-repos.js';
import type { LogLevel } from '../logging.js';
import { createOpenPgpKeyInspector } from '../pgp/openpgp.js';
import { createVaultAccessService } from '../vault/access.js';
import { createPluginBackground } from './background-work.js';
import { PLUGIN_LOCAL_REPO_ROOT_FLAG, readLocalRepoRoots } from './plugin-settings.js';
import { createHclogLogger, fileSink, stderrSink, type LineSink } from './hclog.js';
import { servePlugin } from './runtime.js';
import { pluginVersion } from './version.js';

const LEVELS = new Set<string>(['debug', 'info', 'warn', 'error', 'silent']);

/** `--data-dir=DIR` or `--data-dir DIR` from the registration's args, else the environment. */
export function dataDirFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith('--data-dir=')) return a.slice('--data-dir='.length);
    if (a === '--data-dir' && argv[i + 1]) return argv[i + 1] ?? '';
  }
  return env['FLANT_GITOPS_DATA_DIR'] || join(tmpdir(), 'flant_gitops');
}

function main(): void {
  const env = process.env;
  const sinks: LineSink[] = [stderrSink()];
  const logFile = env['FLANT_GITOPS_PLUGIN_LOG_FILE'];
  if (logFile) sinks.push(fileSink(logFile));
  const level = env['FLANT_GITOPS_PLUGIN_LOG_LEVEL'] ?? 'info';
  const logger = createHclogLogger({
    sinks,
    level: (LEVELS.has(level) ? level : 'info') as LogLevel,
  });
  const keyInspector = createOpenPgpKeyInspector();
  // One process serves one mount: its API paths and its pipeline share one Vault access service.
  const vaultAccess = createVaultAccessService({
    logger: logger.child({ component: 'vault-access' }),
  });
  const argv = process.argv.slice(2);
  const dataDir = dataDirFrom(argv, env);
  let roots: string[];
  try {
    roots = readLocalRepoRoots(argv, env, dataDir);
  } catch (e) {
    logger.error({ error: e instanceof Error ? e.message : String(e) }, 'plugin failed to start');
    process.exit(1);
  }
  const localRepos = createLocalRepoPolicy({ roots, dataDir, flag: PLUGIN_LOCAL_REPO_ROOT_FLAG });
  servePlugin({
    env,
    logger,
    version: pluginVersion(),
    dataDir,
    apiServices: () => ({ keyInspector, vaultAccess, localRepos }),
    background: createPluginBackground({ vaultAccess, argv, env, localRepos }),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    exit: (code) => process.exit(code),
  }).catch((e: unknown) => {
    logger.error({ error: e instanceof Error ? e.message : String(e) }, 'plugin failed to start');
    process.exit(1);
  });
}

main();
