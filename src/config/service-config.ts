/**
 * The service's own configuration (not a mount's): where to listen, where data lives, which
 * mounts to serve and how callers are authorized. Read once at start-up from CLI flags (which
 * win) and FLANT_GITOPS_* environment variables, validated with every problem reported at once,
 * then deep-frozen.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { DEFAULT_GIT_CONCURRENCY } from '../git/concurrency.js';
import type { LogLevel } from '../logging.js';
import { isWithin, LOCAL_REPO_ROOT_FLAG, splitRoots } from './local-repos.js';
import { NAME_MAX_CHARS } from './limits.js';
import { NAME_LENGTH_RULE, NAME_PATTERN, NAME_RULE } from './rules/names.js';
import { isHttpUrl } from './rules/http-url.js';
import { parseSealKey } from './rules/seal-key.js';

/** How /v1 callers are authorized. */
export type AuthMode =
  { readonly mode: 'embedded' } | { readonly mode: 'delegated'; readonly vaultAddr: string };

const LOG_LEVELS = [
  'debug',
  'info',
  'warn',
  'error',
  'silent',
] as const satisfies readonly LogLevel[];

function parseListen(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** A secret read from a file or the environment: present and readable. */
const secretSetting = z.string().superRefine((s, ctx) => {
  if (s.startsWith('\0unreadable:')) {
    const [, file, code] = s.split(':');
    ctx.addIssue({
      code: 'custom',
      message: `cannot read ${file ?? 'the file'} (${code ?? 'error'})`,
    });
  } else if (s === '') {
    ctx.addIssue({
      code: 'custom',
      message: 'must be set (a file flag or its environment variable)',
    });
  }
});

/** The validated service configuration. */
export const ServiceConfig = z
  .strictObject({
    listen: z.string().transform((s, ctx) => {
      const l = parseListen(s);
      if (!l) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)',
        });
        return z.NEVER;
      }
      return l;
    }),
    dataDir: z.string().min(1, 'must not be empty'),
    rootTokenFile: z.string().min(1, 'must not be empty'),
    mounts: z
      .array(z.string().max(NAME_MAX_CHARS, NAME_LENGTH_RULE).regex(NAME_PATTERN, NAME_RULE))
      .min(1, 'must name at least one mount')
      .refine((m) => new Set(m).size === m.length, 'must not repeat a mount'),
    auth: z.discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('embedded') }),
      z.strictObject({
        mode: z.literal('delegated'),
        vaultAddr: z.string().refine(isHttpUrl, 'must be an http(s) URL'),
      }),
    ]),
    logLevel: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
    containerNetwork: z
      .string()
      .regex(
        /^[\w][\w.:-]*$/,
        'must be a Docker network mode (host, none, bridge or a network name)',
      ),
    dockerSocket: z.string().min(1, 'must not be empty'),
    fluxRecvConfig: z.string().min(1, 'must not be empty').optional(),
    tickSeconds: z.coerce
      .number()
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1')
      .max(60, 'must be at most 60'),
    storage: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('files') }),
      z.strictObject({
        kind: z.literal('vault-kv'),
        addr: z.string().refine(isHttpUrl, 'must be an http(s) URL'),
        mount: z.string().regex(/^[\w.-]+(\/[\w.-]+)*$/, 'must be a KV v2 mount path'),
        prefix: z.string().regex(/^[\w.-]+(\/[\w.-]+)*$/, 'must be a path of names'),
        auth: z.discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('token'), token: secretSetting }),
          z.strictObject({
            kind: z.literal('approle'),
            mount: z.string().min(1, 'must not be empty'),
            roleId: z.string().min(1, 'must not be empty'),
            secretId: secretSetting,
          }),
        ]),
        caPem: secretSetting.optional(),
        serverName: z.string().optional(),
      }),
    ]),
    replicaId: z.string().regex(/^[\w.-]{1,128}$/, 'must be 1-128 letters, digits, ., _ or -'),
    leaseTtlSeconds: z.coerce
      .number()
      .int('must be a whole number of seconds')
      .min(3, 'must be at least 3')
      .max(600, 'must be at most 600'),
    gitConcurrency: z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(256, 'must be at most 256'),
    sealKey: secretSetting
      .refine((s) => s.startsWith('\0') || typeof parseSealKey(s) !== 'string', {
        message: 'must be base64 of 32 random bytes (flant-gitops seal-key prints one)',
      })
      .optional(),
    gitSafeDirectories: z.array(
      z
        .string()
        .refine((d) => d === '*' || d.startsWith('/'), 'must be an absolute path or *')
        .refine((d) => !/[\n\r\0]/.test(d), 'must not contain a line break'),
    ),
    localRepoRoots: z.array(
      z.string().refine((d) => d.startsWith('/'), 'must be an absolute path'),
    ),
  })
  .superRefine((c, ctx) => {
    c.localRepoRoots.forEach((root, i) => {
      if (isWithin(c.dataDir, root)) {
        ctx.addIssue({
          code: 'custom',
          path: ['localRepoRoots', i],
          message: 'must not be the data directory or inside it',
        });
      }
    });
  });

/** The frozen service configuration. */
export type ServiceConfig = Readonly<{
  listen: Readonly<{ host: string; port: number }>;
  dataDir: string;
  rootTokenFile: string;
  mounts: readonly string[];
  auth: AuthMode;
  logLevel: LogLevel;
  /** Docker network mode of the containers that run the commands. */
  containerNetwork: string;
  dockerSocket: string;
  /** A flux-recv YAML file whose endpoints trigger every mount. */
  fluxRecvConfig?: string;
  /** Seconds between scheduler ticks (each checks every mount's git_poll_period). */
  tickSeconds: number;
  /** Where configuration and state live: files under the data dir, or a Vault KV v2 mount. */
  storage: StorageConfig;
  /** This replica's identity in mount leases (replicas sharing a KV store). */
  replicaId: string;
  leaseTtlSeconds: number;
  /** Local repositories owned by another user that git may read anyway (`*`: all). */
  gitSafeDirectories: readonly string[];
  /** The only directories local repositories (a path or file:// URL) may be read from. */
  localRepoRoots: readonly string[];
  /** Git processes alive at once across all mounts (each git call waits for a slot). */
  gitConcurrency: number;
  /** The file store's seal key (base64 of 32 bytes, from --seal-key-file); absent: secrets in clear. */
  sealKey?: string;
}>;

/** Storage backend settings (the KV token and secret id are read from files or env, never argv). */
export type StorageConfig =
  | Readonly<{ kind: 'files' }>
  | Readonly<{
      kind: 'vault-kv';
      addr: string;
      mount: string;
      prefix: string;
      auth:
        | Readonly<{ kind: 'token'; token: string }>
        | Readonly<{ kind: 'approle'; mount: string; roleId: string; secretId: string }>;
      caPem?: string;
      serverName?: string;
    }>;

/** CLI names of the flags (also used by the usage text). */
export const SERVE_FLAGS = {
  listen: { type: 'string' },
  'data-dir': { type: 'string' },
  'root-token-file': { type: 'string' },
  mount: { type: 'string', multiple: true },
  'auth-vault-addr': { type: 'string' },
  'log-level': { type: 'string' },
  'container-network': { type: 'string' },
  'docker-socket': { type: 'string' },
  'flux-recv-config': { type: 'string' },
  'tick-seconds': { type: 'string' },
  storage: { type: 'string' },
  'kv-addr': { type: 'string' },
  'kv-mount': { type: 'string' },
  'kv-prefix': { type: 'string' },
  'kv-token-file': { type: 'string' },
  'kv-approle-mount': { type: 'string' },
  'kv-role-id': { type: 'string' },
  'kv-secret-id-file': { type: 'string' },
  'kv-cacert': { type: 'string' },
  'kv-tls-server-name': { type: 'string' },
  'replica-id': { type: 'string' },
  'lease-ttl-seconds': { type: 'string' },
  'git-safe-directory': { type: 'string', multiple: true },
  'local-repo-root': { type: 'string', multiple: true },
  'git-concurrency': { type: 'string' },
  'seal-key-file': { type: 'string' },
} as const;

/** Map of config fields to their flag and variable, so messages name what the user typed. */
const SOURCES: Readonly<Record<string, string>> = {
  listen: '--listen / FLANT_GITOPS_LISTEN',
  dataDir: '--data-dir / FLANT_GITOPS_DATA_DIR',
  rootTokenFile: '--root-token-file / FLANT_GITOPS_ROOT_TOKEN_FILE',
  mounts: '--mount / FLANT_GITOPS_MOUNTS',
  auth: '--auth-vault-addr / FLANT_GITOPS_AUTH_VAULT_ADDR',
  logLevel: '--log-level / FLANT_GITOPS_LOG_LEVEL',
  containerNetwork: '--container-network / FLANT_GITOPS_CONTAINER_NETWORK',
  dockerSocket: '--docker-socket / FLANT_GITOPS_DOCKER_SOCKET',
  fluxRecvConfig: '--flux-recv-config / FLANT_GITOPS_FLUX_RECV_CONFIG',
  tickSeconds: '--tick-seconds / FLANT_GITOPS_TICK_SECONDS',
  storage: '--storage and --kv-* / FLANT_GITOPS_STORAGE and FLANT_GITOPS_KV_*',
  replicaId: '--replica-id / FLANT_GITOPS_REPLICA_ID',
  leaseTtlSeconds: '--lease-ttl-seconds / FLANT_GITOPS_LEASE_TTL_SECONDS',
  gitSafeDirectories: '--git-safe-directory / FLANT_GITOPS_GIT_SAFE_DIRECTORIES',
  localRepoRoots: LOCAL_REPO_ROOT_FLAG,
  gitConcurrency: '--git-concurrency / FLANT_GITOPS_GIT_CONCURRENCY',
  sealKey: '--seal-key-file / FLANT_GITOPS_SEAL_KEY_FILE',
};

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

type Flags = Partial<Record<keyof typeof SERVE_FLAGS, string | string[] | undefined>>;

/** Read a secret from a file (trimmed); a problem becomes a message naming the file, not content. */
function readSecretFile(file: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8').trim();
  } catch (e) {
    return `\0unreadable:${file}:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

function storageSettings(flags: Flags, env: NodeJS.ProcessEnv, cwd: string): unknown {
  const one = (flag: keyof typeof SERVE_FLAGS, name: string): string | undefined => {
    const v = flags[flag];
    return (typeof v === 'string' ? v : undefined) ?? env[name];
  };
  const kind = one('storage', 'FLANT_GITOPS_STORAGE') ?? 'files';
  if (kind !== 'vault-kv') return { kind };
  const tokenFile = one('kv-token-file', 'FLANT_GITOPS_KV_TOKEN_FILE');
  const token = tokenFile ? readSecretFile(tokenFile, cwd) : env.FLANT_GITOPS_KV_TOKEN;
  const roleId = one('kv-role-id', 'FLANT_GITOPS_KV_ROLE_ID');
  const secretIdFile = one('kv-secret-id-file', 'FLANT_GITOPS_KV_SECRET_ID_FILE');
  const cacert = one('kv-cacert', 'FLANT_GITOPS_KV_CACERT');
  const serverName = one('kv-tls-server-name', 'FLANT_GITOPS_KV_TLS_SERVER_NAME');
  return {
    kind,
    addr: (one('kv-addr', 'FLANT_GITOPS_KV_ADDR') ?? '').replace(/\/+$/, ''),
    mount: one('kv-mount', 'FLANT_GITOPS_KV_MOUNT') ?? 'secret',
    prefix: one('kv-prefix', 'FLANT_GITOPS_KV_PREFIX') ?? 'flant-gitops',
    auth:
      roleId !== undefined
        ? {
            kind: 'approle',
            mount: one('kv-approle-mount', 'FLANT_GITOPS_KV_APPROLE_MOUNT') ?? 'auth/approle',
            roleId,
            secretId: secretIdFile ? readSecretFile(secretIdFile, cwd) : '',
          }
        : { kind: 'token', token: token ?? '' },
    ...(cacert ? { caPem: readSecretFile(cacert, cwd) } : {}),
    ...(serverName ? { serverName } : {}),
  };
}

/**
 * Build the service configuration from the `serve` arguments and the environment.
 * Throws AppError INVALID_INPUT listing every problem (details.errors) at once.
 */
export function loadServiceConfig(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd = process.cwd(),
): ServiceConfig {
  let flags: ReturnType<
    typeof parseArgs<{
      args: string[];
      options: typeof SERVE_FLAGS;
      strict: true;
      allowPositionals: false;
    }>
  >['values'];
  try {
    flags = parseArgs({
      args: [...args],
      options: SERVE_FLAGS,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    const reason = (e as Error).message;
    throw new AppError('INVALID_INPUT', reason, { details: { errors: [reason] } });
  }
  const envMounts = env.FLANT_GITOPS_MOUNTS?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const dataDir = resolve(cwd, flags['data-dir'] ?? env.FLANT_GITOPS_DATA_DIR ?? './data');
  const vaultAddr = flags['auth-vault-addr'] ?? env.FLANT_GITOPS_AUTH_VAULT_ADDR;
  const raw = {
    listen: flags.listen ?? env.FLANT_GITOPS_LISTEN ?? '127.0.0.1:8080',
    dataDir,
    rootTokenFile: resolve(
      cwd,
      flags['root-token-file'] ?? env.FLANT_GITOPS_ROOT_TOKEN_FILE ?? join(dataDir, 'root-token'),
    ),
    mounts: flags.mount ?? envMounts ?? ['flant_gitops'],
    auth:
      vaultAddr === undefined || vaultAddr === ''
        ? { mode: 'embedded' }
        : { mode: 'delegated', vaultAddr: vaultAddr.replace(/\/+$/, '') },
    logLevel: flags['log-level'] ?? env.FLANT_GITOPS_LOG_LEVEL ?? 'info',
    containerNetwork: flags['container-network'] ?? env.FLANT_GITOPS_CONTAINER_NETWORK ?? 'bridge',
    dockerSocket:
      flags['docker-socket'] ?? env.FLANT_GITOPS_DOCKER_SOCKET ?? '/var/run/docker.sock',
    tickSeconds: flags['tick-seconds'] ?? env.FLANT_GITOPS_TICK_SECONDS ?? '5',
  };
  Object.assign(raw, {
    storage: storageSettings(flags, env, cwd),
    replicaId:
      flags['replica-id'] ??
      env.FLANT_GITOPS_REPLICA_ID ??
      `${hostname()
        .replace(/[^\w.-]/g, '-')
        .slice(0, 80)}-${process.pid}-${randomBytes(3).toString('hex')}`,
    leaseTtlSeconds: flags['lease-ttl-seconds'] ?? env.FLANT_GITOPS_LEASE_TTL_SECONDS ?? '15',
    gitConcurrency:
      flags['git-concurrency'] ??
      env.FLANT_GITOPS_GIT_CONCURRENCY ??
      String(DEFAULT_GIT_CONCURRENCY),
    gitSafeDirectories:
      flags['git-safe-directory'] ??
      (env.FLANT_GITOPS_GIT_SAFE_DIRECTORIES ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    localRepoRoots: (flags['local-repo-root'] ?? splitRoots(env.FLANT_GITOPS_LOCAL_REPO_ROOTS)).map(
      (d) => resolve(cwd, d),
    ),
  });
  const sealKeyFile = flags['seal-key-file'] ?? env.FLANT_GITOPS_SEAL_KEY_FILE;
  if (sealKeyFile !== undefined && sealKeyFile !== '') {
    Object.assign(raw, { sealKey: readSecretFile(sealKeyFile, cwd) });
  }
  const fluxRecv = flags['flux-recv-config'] ?? env.FLANT_GITOPS_FLUX_RECV_CONFIG;
  if (fluxRecv !== undefined && fluxRecv !== '') {
    Object.assign(raw, { fluxRecvConfig: resolve(cwd, fluxRecv) });
  }
  const r = ServiceConfig.safeParse(raw);
  if (!r.success) {
    const errors = r.error.issues.map((i) => {
      const top = String(i.path[0] ?? '');
      const rest = i.path.slice(1).map(String).join('.');
      return `${SOURCES[top] ?? top}${rest ? ` [${rest}]` : ''}: ${i.message}`;
    });
    throw new AppError('INVALID_INPUT', errors.join('; '), { details: { errors } });
  }
  return deepFreeze(r.data as ServiceConfig);
}
