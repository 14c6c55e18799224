/**
 * Storage keys of a mount (relative to `mounts/<mount>/`) and the state records that are not
 * settings. Key names follow the original plugin's where it had one (docs/compat.md, "Storage
 * keys"). The settings' shapes are the schemas of ./settings-schemas.ts, read and written only
 * through ./mount-settings.ts; tasks belong to src/tasks/, poll state and the last successful
 * commit to src/pipeline/poll-state.ts.
 */

/** The value at `last_successful_commit`. */
export interface StoredLastCommit {
  readonly commit: string;
  readonly at: string;
}

/** The settings of a mount, by the name change notices use. */
export type SettingName =
  | 'configuration'
  | 'vault_request'
  | 'trusted_key'
  | 'trusted_ssh_key'
  | 'git_credential'
  | 'git_ssh_key'
  | 'webhook'
  | 'vault_access'
  | 'task_settings'
  | 'container_settings';

/** Storage keys (relative to the mount's scope). */
export const StorageKeys = {
  configuration: 'configuration',
  vaultRequestPrefix: 'vault_request/',
  vaultRequest: (name: string) => `vault_request/${name}`,
  lastSuccessfulCommit: 'last_successful_commit',
  lastPeriodicRunTimestamp: 'last_periodic_run_timestamp',
  gitCredential: 'configuration_git_credential',
  gitSshKey: 'configuration_git_ssh_key',
  trustedKeyPrefix: 'trusted_pgp_public_key/',
  trustedKey: (name: string) => `trusted_pgp_public_key/${name}`,
  trustedSshKeyPrefix: 'trusted_ssh_public_key/',
  trustedSshKey: (name: string) => `trusted_ssh_public_key/${name}`,
  vaultAccess: 'configure_vault_access',
  taskConfiguration: 'tasks_manager_configuration',
  containerSettings: 'container_settings',
  taskPrefix: 'task/',
  task: (id: string) => `task/${id}`,
  taskLog: (id: string) => `task_log/${id}`,
  pollState: 'poll_state',
  webhookPrefix: 'webhook/',
  webhook: (name: string) => `webhook/${name}`,
} as const;

/** Scope prefix of a mount's keys in the service's store. */
export function mountScope(mount: string): string {
  return `mounts/${mount}/`;
}

/** The key within its mount of a service-store key `mounts/<mount>/<key>`, else undefined. */
export function keyInMount(key: string): string | undefined {
  const [top, mount, ...rest] = key.split('/');
  if (top !== 'mounts' || mount === undefined || mount === '' || rest.length === 0) {
    return undefined;
  }
  return rest.join('/');
}
