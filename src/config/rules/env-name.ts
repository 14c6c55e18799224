/**
 * The environment variable that carries a request's wrapping token into the command. Shared with
 * the API layer so that it can reject two request names that would map to the same variable.
 */

/** Prefix of every wrapped-token variable (docs/compat.md, "Vault requests"). */
export const REQUEST_TOKEN_ENV_PREFIX = 'VAULT_REQUEST_TOKEN_';

/**
 * `VAULT_REQUEST_TOKEN_<NAME>`: the request name upper-cased, with `-` and `.` turned into `_`
 * (the original kept `.`, which gives a variable no shell can read).
 */
export function requestTokenEnvName(name: string): string {
  return REQUEST_TOKEN_ENV_PREFIX + name.toUpperCase().replace(/[-.]/g, '_');
}

/**
 * A portable environment variable name (letters, digits and `_`, not starting
 * with a digit). The runner refuses any other name before it creates a container, and every name
 * `requestTokenEnvName` gives from a valid request name meets it.
 */
export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a name `ENV_VAR_NAME` accepts. */
export function isEnvVarName(name: string): boolean {
  return ENV_VAR_NAME.test(name);
}
