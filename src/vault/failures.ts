/**
 * Turns a failed target-Vault call into an AppError that names what we were doing and carries
 * Vault's own messages — and, as a last line of defence, scrubs every secret we know of from the
 * text, because error reasons end up in task records and logs.
 */
import { AppError, type ErrorCode } from '../errors.js';
import { VaultCallError, classifyFailure, type VaultCallFailure } from './transport.js';

/** Replace every occurrence of each (non-trivial) secret in `text` with `[REDACTED]`. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('[REDACTED]');
  }
  return out;
}

function describe(f: VaultCallFailure): string {
  if (f.kind === 'http') {
    return f.errors.length
      ? `Vault answered HTTP ${f.status}: ${f.errors.join('; ')}`
      : `Vault answered HTTP ${f.status}`;
  }
  if (f.kind === 'tls') return `TLS connection to Vault failed (${f.code}): ${f.message}`;
  return `Vault is unreachable (${f.code}): ${f.message}`;
}

/**
 * AppError for `what` (e.g. `vault request "db" (GET /v1/secret/data/db)`) failing with `e`.
 * HTTP 4xx → `clientCode` (default VAULT_REQUEST_FAILED, a person must act); 5xx →
 * VAULT_REQUEST_FAILED, retry later; network → VAULT_UNREACHABLE; TLS → VAULT_UNREACHABLE that
 * needs a person (a wrong CA or server name does not heal by waiting).
 */
export function vaultFailure(
  what: string,
  e: unknown,
  secrets: readonly (string | undefined)[],
  clientCode: ErrorCode = 'VAULT_REQUEST_FAILED',
): AppError {
  if (e instanceof AppError) return e;
  const f = e instanceof VaultCallError ? e.failure : classifyFailure(e);
  const reason = scrub(`${what} failed: ${describe(f)}`, secrets);
  const details: Record<string, unknown> =
    f.kind === 'http'
      ? { status: f.status, vault_errors: f.errors.map((m) => scrub(m, secrets)) }
      : { failure: f.kind, code: f.code };
  // No `cause`: the library error holds the request config, headers included (the token).
  if (f.kind === 'http') {
    return f.status >= 500
      ? new AppError('VAULT_REQUEST_FAILED', reason, { details, next: 'retry-later' })
      : new AppError(clientCode, reason, { details, next: 'user' });
  }
  return new AppError('VAULT_UNREACHABLE', reason, {
    details,
    next: f.kind === 'tls' ? 'user' : 'retry-later',
  });
}
