/**
 * The plugin process's own settings (not a mount's configuration): where its webhook listener
 * binds, how often its scheduler ticks, which Docker engine and network its runs use. They come
 * from the places an OpenBao operator controls — the mount's options, then the registration's
 * `-args`, then the environment — never from a Vault path a mount's writer can reach, because
 * binding a socket or picking a Docker engine on the OpenBao host is the host operator's call.
 * Validated at Initialize with every problem named at once, then frozen.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { isWithin, splitRoots } from '../config/local-repos.js';
import { ServiceConfig } from '../config/service-config.js';
import { AppError } from '../errors.js';

/** The validated settings. */
export interface PluginSettings {
  /**
   * `off`: serve the API only — no scheduler, runs or webhooks (a standby, or API-only tests
   * whose configurations name hosts that must never be contacted). Default `on`.
   */
  readonly pipeline: 'on' | 'off';
  /** Where the webhook listener binds; undefined: no listener (polls only). */
  readonly webhookListen: { readonly host: string; readonly port: number } | undefined;
  readonly tickSeconds: number;
  readonly containerNetwork: string;
  readonly dockerSocket: string;
  /** Local repositories owned by another user that git may read anyway (`*`: all). */
  readonly gitSafeDirectories: readonly string[];
}

const shape = ServiceConfig.shape;
const PluginSettingsSchema = z.strictObject({
  pipeline: z.enum(['on', 'off'], { error: 'must be on or off' }),
  webhookListen: shape.listen.optional(),
  tickSeconds: shape.tickSeconds,
  containerNetwork: shape.containerNetwork,
  dockerSocket: shape.dockerSocket,
  gitSafeDirectories: shape.gitSafeDirectories,
});

/** Where each setting is read from, for error messages and the README. */
export const PLUGIN_SETTING_SOURCES = {
  pipeline: '--pipeline / FLANT_GITOPS_PIPELINE',
  webhookListen:
    'mount option webhook_listen, or --webhook-listen / FLANT_GITOPS_WEBHOOK_LISTEN (HOST:PORT)',
  tickSeconds: '--tick-seconds / FLANT_GITOPS_TICK_SECONDS',
  containerNetwork: '--container-network / FLANT_GITOPS_CONTAINER_NETWORK',
  dockerSocket: '--docker-socket / FLANT_GITOPS_DOCKER_SOCKET',
  gitSafeDirectories: '--git-safe-directory / FLANT_GITOPS_GIT_SAFE_DIRECTORIES (comma list)',
} as const;

/** `--name=value` or `--name value` from the registration's args. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    if (a === `--${name}` && i + 1 < argv.length) return argv[i + 1];
  }
  return undefined;
}

/**
 * Read the settings. `mountOptions` is Setup's config (it carries the options given to
 * `bao secrets enable -options=…`), which wins for the webhook address so that two mounts of
 * one registration can listen on two ports. Throws INVALID_INPUT naming every bad setting.
 */
export function readPluginSettings(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  mountOptions: Readonly<Record<string, string>>,
): PluginSettings {
  const pick = (name: string, envName: string): string | undefined =>
    argValue(argv, name) ?? (env[envName] || undefined);
  const listen =
    mountOptions['webhook_listen'] || pick('webhook-listen', 'FLANT_GITOPS_WEBHOOK_LISTEN');
  const raw = {
    pipeline: pick('pipeline', 'FLANT_GITOPS_PIPELINE') ?? 'on',
    ...(listen ? { webhookListen: listen } : {}),
    tickSeconds: pick('tick-seconds', 'FLANT_GITOPS_TICK_SECONDS') ?? '5',
    containerNetwork: pick('container-network', 'FLANT_GITOPS_CONTAINER_NETWORK') ?? 'bridge',
    dockerSocket: pick('docker-socket', 'FLANT_GITOPS_DOCKER_SOCKET') ?? '/var/run/docker.sock',
    gitSafeDirectories: (pick('git-safe-directory', 'FLANT_GITOPS_GIT_SAFE_DIRECTORIES') ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter((d) => d !== ''),
  };
  const parsed = PluginSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof typeof PLUGIN_SETTING_SOURCES;
      return `${PLUGIN_SETTING_SOURCES[key] ?? key}: ${i.message}`;
    });
    throw new AppError('INVALID_INPUT', `plugin settings: ${problems.join('; ')}`);
  }
  const s = parsed.data;
  return Object.freeze({
    pipeline: s.pipeline,
    webhookListen: s.webhookListen,
    tickSeconds: s.tickSeconds,
    containerNetwork: s.containerNetwork,
    dockerSocket: s.dockerSocket,
    gitSafeDirectories: Object.freeze([...s.gitSafeDirectories]),
  });
}

/** Every `--name=value` / `--name value` of a repeatable flag in the registration's args. */
export function argValues(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
    else if (a === `--${name}` && i + 1 < argv.length) out.push(argv[++i] ?? '');
  }
  return out;
}

/** Where the plugin reads its approved local repository roots (named in refusals). */
export const PLUGIN_LOCAL_REPO_ROOT_FLAG =
  'plugin -args=--local-repo-root=DIR / FLANT_GITOPS_LOCAL_REPO_ROOTS';

/**
 * The plugin's approved local repository roots: `--local-repo-root=DIR` in the registration's
 * args (repeatable), else FLANT_GITOPS_LOCAL_REPO_ROOTS (comma-separated). Reading files on the
 * OpenBao host is the host operator's call, so a mount option (which whoever may enable mounts
 * sets) cannot add one. Relative or data-dir roots are refused, naming the setting.
 */
export function readLocalRepoRoots(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  dataDir: string,
): string[] {
  const given = argValues(argv, 'local-repo-root');
  const roots = given.length > 0 ? given : splitRoots(env['FLANT_GITOPS_LOCAL_REPO_ROOTS']);
  const problems: string[] = [];
  for (const r of roots) {
    if (!r.startsWith('/')) problems.push(`${r}: must be an absolute path`);
    else if (isWithin(resolve(dataDir), resolve(r))) {
      problems.push(`${r}: must not be the data directory or inside it`);
    }
  }
  if (problems.length > 0) {
    throw new AppError(
      'INVALID_INPUT',
      `plugin settings: ${PLUGIN_LOCAL_REPO_ROOT_FLAG}: ${problems.join('; ')}`,
    );
  }
  return roots.map((r) => resolve(r));
}
