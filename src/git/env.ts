/**
 * The pinned environment of every git call: no user or system config, no prompts, C.UTF-8, only
 * safe transports, and the credentials of the remote given without ever touching argv or the URL
 * (HTTP: an `Authorization` header through GIT_CONFIG_* env; SSH: a key and known_hosts in a 0600
 * temp dir that the caller removes in `finally`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitAuth } from './types.js';

/** Names of the GIT_* variables we set; simple-git strips any GIT_* variable not listed. */
export const GIT_ENV_KEYS = [
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_NOSYSTEM',
  'GIT_TERMINAL_PROMPT',
  'GIT_ALLOW_PROTOCOL',
  'GIT_HTTP_LOW_SPEED_LIMIT',
  'GIT_HTTP_LOW_SPEED_TIME',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
  'GIT_INDEX_FILE',
] as const;

/** An environment for one call plus what must be cleaned up and never shown. */
export interface GitCallEnv {
  readonly env: Record<string, string>;
  /** Values that must be scrubbed from any message (password, auth header). */
  readonly secrets: readonly string[];
  /** Removes the temp dir holding key material (idempotent; call in `finally`). */
  dispose(): Promise<void>;
}

/** Options for building the environment. */
export interface GitEnvOptions {
  /** Per-call timeout; curl and ssh get their own limits derived from it. */
  readonly timeoutMs: number;
  /** Parent of the 0600 temp dir for SSH key material (default: the OS temp dir). */
  readonly tmpDir?: string;
  /** The service's own git config file (see baseGitEnv); none: /dev/null. */
  readonly globalConfig?: string;
}

/**
 * The text of the service's git config: one `safe.directory` per path the operator marked safe
 * (`*` marks every repository safe). git refuses a local repository owned by another user
 * ("dubious ownership") unless its path is listed in a global or system config, never from
 * environment or `-c` settings (git 2.39), so the hermetic environment needs this one file.
 */
export function serviceGitConfig(safeDirectories: readonly string[]): string {
  const lines = [
    '# Written by flant-gitops from --git-safe-directory before its first git call; do not edit.',
    '[safe]',
  ];
  for (const dir of safeDirectories) {
    if (/[\n\r\0]/.test(dir)) throw new Error('a safe directory must not contain a line break');
    lines.push(`\tdirectory = "${dir.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  }
  return `${lines.join('\n')}\n`;
}

/** Write the service's git config file (0600) for `safeDirectories`; returns its path. */
export async function writeServiceGitConfig(
  file: string,
  safeDirectories: readonly string[],
): Promise<string> {
  await writeFile(file, serviceGitConfig(safeDirectories), { mode: 0o600 });
  return file;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hermetic base every git call gets, remote or not. No user or system config is read; the
 * only "global" config is the service's own file when one is given (written by
 * writeServiceGitConfig: nothing but `safe.directory` entries, which git honours only there).
 */
export function baseGitEnv(globalConfig?: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/nonexistent',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    GIT_CONFIG_GLOBAL: globalConfig ?? '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
  };
}

function sshCommand(timeoutMs: number, keyFile?: string, knownHosts?: string): string {
  const connectTimeout = Math.max(1, Math.ceil(timeoutMs / 1000));
  const parts = [
    'ssh',
    '-F /dev/null',
    '-o BatchMode=yes',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${knownHosts === undefined ? '/dev/null' : shellQuote(knownHosts)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o IdentitiesOnly=yes',
    '-o PasswordAuthentication=no',
    '-o KbdInteractiveAuthentication=no',
    `-o ConnectTimeout=${connectTimeout}`,
    '-o ServerAliveInterval=15',
    '-o ServerAliveCountMax=2',
  ];
  if (keyFile !== undefined) parts.push(`-i ${shellQuote(keyFile)}`);
  return parts.join(' ');
}

/**
 * Build the environment for a call that talks to the remote. For SSH the key and known_hosts are
 * written to a fresh 0700 dir (files 0600); `dispose()` removes it.
 */
export async function remoteGitEnv(auth: GitAuth, opts: GitEnvOptions): Promise<GitCallEnv> {
  const env: Record<string, string> = {
    ...baseGitEnv(opts.globalConfig),
    // curl gives up by itself a little after our own timeout, so no helper outlives a killed git.
    GIT_HTTP_LOW_SPEED_LIMIT: '1',
    GIT_HTTP_LOW_SPEED_TIME: String(Math.ceil(opts.timeoutMs / 1000) + 5),
    GIT_SSH_VARIANT: 'ssh',
    GIT_SSH_COMMAND: sshCommand(opts.timeoutMs),
  };
  if (auth.kind === 'basic') {
    const header = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = 'http.extraHeader';
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${header}`;
    return { env, secrets: [auth.password, header], dispose: async () => {} };
  }
  if (auth.kind === 'ssh') {
    const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'fg-git-ssh-'));
    const dispose = async (): Promise<void> => rm(dir, { recursive: true, force: true });
    try {
      const key = join(dir, 'id');
      const known = join(dir, 'known_hosts');
      const keyText = auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`;
      await writeFile(key, keyText, { mode: 0o600 });
      await writeFile(
        known,
        auth.knownHosts.endsWith('\n') ? auth.knownHosts : `${auth.knownHosts}\n`,
        {
          mode: 0o600,
        },
      );
      env.GIT_SSH_COMMAND = sshCommand(opts.timeoutMs, key, known);
      return { env, secrets: [auth.privateKey.trim()], dispose };
    } catch (e) {
      await dispose();
      throw e;
    }
  }
  return { env, secrets: [], dispose: async () => {} };
}
