/**
 * The environment variable that carries a request's wrapping token into the command. Shared with
 * the API layer so that it can reject two request names that would map to the same variable.
 */

/** Prefix of every wrapped-token variable (spec §5). */
export const REQUEST_TOKEN_ENV_PREFIX = 'VAULT_REQUEST_TOKEN_';

/**
 * `VAULT_REQUEST_TOKEN_<NAME>`: the request name upper-cased, with `-` and `.` turned into `_`
 * (the original kept `.`, which gives a variable no shell can read).
 */
export function requestTokenEnvName(name: string): string {
  return REQUEST_TOKEN_ENV_PREFIX + name.toUpperCase().replace(/[-.]/g, '_');
}
