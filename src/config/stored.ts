/**
 * The shapes kept in storage, per mount (keys are relative to `mounts/<mount>/`), and the key
 * names. This is the contract between the API paths (which write them after validation) and the
 * pipeline (which reads them). Key names follow the original plugin's where it had one.
 * Durations are integer seconds.
 */

/** configure */
export interface StoredConfiguration {
  readonly git_repo_url: string;
  readonly git_branch_name: string;
  readonly git_poll_period: number;
  readonly required_number_of_verified_signatures_on_commit: number;
  readonly initial_last_successful_commit: string;
  readonly docker_image: string;
  readonly commands: readonly string[];
}

/** configure/git_credential */
export interface StoredGitCredential {
  readonly username: string;
  readonly password: string;
}

/** configure/git_ssh_key */
export interface StoredGitSshKey {
  readonly private_key: string;
  readonly known_hosts: string;
}

/** configure/trusted_pgp_public_key/<name> */
export interface StoredTrustedKey {
  readonly name: string;
  readonly public_key: string;
}

/** task/configure */
export interface StoredTaskConfiguration {
  readonly task_timeout: number;
  readonly task_history_limit: number;
}

/** The value at `last_successful_commit`. */
export interface StoredLastCommit {
  readonly commit: string;
  readonly at: string;
}

/** configure/webhook/<name> (the secret is write-only: never returned by a read) */
export interface StoredWebhook {
  readonly name: string;
  readonly source: string;
  readonly secret: string;
  /** Branch filter; '' = the mount's `git_branch_name`. */
  readonly branch: string;
  readonly backends: readonly string[];
}

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
  vaultAccess: 'configure_vault_access',
  taskConfiguration: 'tasks_manager_configuration',
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
