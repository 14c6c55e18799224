/**
 * Pure decisions about the service's AppRole identity, as functions of the clock: when the token
 * must be renewed or replaced, and when the secret id is due for rotation. Kept apart from I/O so
 * the rules are tested without a Vault.
 */

/** What we hold about the current token; times in ms since the epoch (injected clock). */
export interface TokenState {
  readonly obtainedAt: number;
  /** When we treat the token as expired: obtainedAt + min(Vault's TTL, token_ttl). */
  readonly expiresAt: number;
  readonly renewable: boolean;
}

/** The TTL (seconds) we treat a token as having: Vault's, capped by the configured `token_ttl`. */
export function effectiveTtl(vaultTtl: number, tokenTtl: number): number {
  if (vaultTtl <= 0) return tokenTtl > 0 ? tokenTtl : 0;
  return tokenTtl > 0 ? Math.min(vaultTtl, tokenTtl) : vaultTtl;
}

/**
 * `use` while less than half the lifetime is gone; `renew` after that (renewable tokens);
 * `login` once less than a safety margin (10 % of the lifetime, at most 10 s) is left, or when
 * the token cannot be renewed. A TTL of 0 (a non-expiring token) is always `use`.
 */
export function tokenAction(t: TokenState | undefined, now: number): 'use' | 'renew' | 'login' {
  if (!t) return 'login';
  const life = t.expiresAt - t.obtainedAt;
  if (life <= 0) return 'use';
  const margin = Math.min(10_000, life * 0.1);
  if (now >= t.expiresAt - margin) return 'login';
  if (now >= t.obtainedAt + life / 2) return t.renewable ? 'renew' : 'use';
  return 'use';
}

/**
 * True when more than 10 % of `secret_id_ttl` has passed since our secret id was minted, or when
 * its minting time is unknown. A TTL of 0 means the secret id never expires: no rotation.
 */
export function rotationDue(
  issuedAt: string | undefined,
  secretIdTtlSeconds: number,
  now: number,
): boolean {
  if (secretIdTtlSeconds <= 0) return false;
  const t = issuedAt === undefined ? Number.NaN : Date.parse(issuedAt);
  if (Number.isNaN(t)) return true;
  return now - t > secretIdTtlSeconds * 1000 * 0.1;
}
