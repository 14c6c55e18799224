/**
 * The target-Vault capability in our own types. Only src/vault/ implements it (over node-vault).
 */

/** configure_vault_access as stored (durations in seconds). */
export interface VaultAccessConfig {
  readonly vault_addr: string;
  readonly vault_tls_server_name: string;
  readonly vault_cacert: string;
  readonly role_name: string;
  readonly role_id: string;
  readonly secret_id: string;
  readonly secret_id_ttl: number;
  readonly approle_mount_point: string;
  readonly token_ttl: number;
  /**
   * When the service minted `secret_id` (ISO-8601). Set by the service, never by the operator; the
   * rotation clock (10 % of `secret_id_ttl`) runs from here. Absent (e.g. imported from the
   * original plugin) means "age unknown": the next client() rotates at once.
   */
  readonly secret_id_issued_at?: string | undefined;
}

/** One configured wrapped request (configure/vault_request/<name>). */
export interface VaultRequestConfig {
  readonly name: string;
  readonly path: string;
  readonly method: 'GET' | 'POST' | 'LIST' | 'PUT' | 'DELETE';
  readonly options: Readonly<Record<string, unknown>>;
  /** seconds */
  readonly wrap_ttl: number;
}

/** A wrapping token minted for one request (the token is a secret: never log it). */
export interface WrappedToken {
  readonly name: string;
  /** VAULT_REQUEST_TOKEN_<NAME> */
  readonly envName: string;
  readonly token: string;
  readonly ttl: number;
  readonly accessor: string;
}

/** Performs Vault requests in wrapped mode with the service's AppRole identity. */
export interface SecretsClient {
  wrappedRequest(req: VaultRequestConfig): Promise<WrappedToken>;
}

/** Owns the service's AppRole identity on the target Vault for one mount. */
export interface VaultAccessService {
  /**
   * Called by the configure_vault_access write before anything is stored: log in with the
   * operator's role id and secret id, mint our own secret id, store the access (with our
   * secret id) through `save`, then destroy the operator's one. Throws an AppError (400 for bad
   * credentials, 502 for an unreachable Vault) and stores nothing when login fails.
   */
  configure(
    cfg: VaultAccessConfig,
    save: (stored: VaultAccessConfig) => Promise<void>,
  ): Promise<void>;
  /** A client for wrapped requests, logging in (and rotating the secret id) as needed. */
  client(
    load: () => Promise<VaultAccessConfig | undefined>,
    save: (stored: VaultAccessConfig) => Promise<void>,
  ): Promise<SecretsClient>;
}
