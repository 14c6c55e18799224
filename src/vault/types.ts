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
