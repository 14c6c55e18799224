/**
 * Vault's response envelopes, which the `vault`/`bao` CLI relies on: a success body with
 * `request_id` and the lease fields, and `{"errors": [...]}` for failures. Unexpected errors get
 * a generic text here; their detail goes to the log only.
 */
import { AppError } from '../errors.js';

/** A successful response body with data. */
export interface VaultEnvelope {
  readonly request_id: string;
  readonly lease_id: '';
  readonly renewable: false;
  readonly lease_duration: 0;
  readonly data: Readonly<Record<string, unknown>>;
  readonly wrap_info: null;
  readonly warnings: readonly string[] | null;
  readonly auth: null;
}

/** Wrap `data` (and warnings) in Vault's success envelope. */
export function successEnvelope(
  requestId: string,
  data: Readonly<Record<string, unknown>>,
  warnings?: readonly string[],
): VaultEnvelope {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: warnings && warnings.length > 0 ? warnings : null,
    auth: null,
  };
}

/** An HTTP error answer: status and the `errors` list. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: { readonly errors: readonly string[] };
  /** True when the detail must be logged (the client only got a generic text). */
  readonly unexpected: boolean;
}

/** Map an AppError to Vault's error answer; 5xx detail never reaches the client unless meant to. */
export function errorAnswer(e: AppError): ErrorAnswer {
  switch (e.code) {
    case 'NOT_FOUND':
      return { status: 404, body: { errors: [] }, unexpected: false };
    case 'PERMISSION_DENIED':
      return { status: 403, body: { errors: ['permission denied'] }, unexpected: false };
    case 'INVALID_INPUT': {
      const list = e.details?.['errors'];
      const errors =
        Array.isArray(list) && list.every((x) => typeof x === 'string') ? list : [e.reason];
      return { status: 400, body: { errors: vaultErrorList(errors) }, unexpected: false };
    }
    case 'INTERNAL':
      return { status: 500, body: { errors: ['internal error'] }, unexpected: true };
    case 'STORAGE_FAILED':
      return { status: 503, body: { errors: ['storage is unavailable'] }, unexpected: true };
    default:
      return { status: e.status, body: { errors: [e.reason] }, unexpected: e.status >= 500 };
  }
}

/**
 * Several errors as Vault sends them: one string in go-multierror's layout
 * (`2 errors occurred:\n\t* a\n\t* b\n\n`). The vault/bao CLI prints each element of `errors`
 * as `* <element>` with no separator, so a list of several ran together on one line; one string
 * laid out like this prints one error per line, as it does for Vault itself. A single error stays
 * as it is.
 */
export function vaultErrorList(errors: readonly string[]): readonly string[] {
  if (errors.length <= 1) return errors;
  const lines = errors.map((e) => `\t* ${e}`).join('\n');
  return [`${errors.length} errors occurred:\n${lines}\n\n`];
}

/** The errors of an answer as a list again (a multi-error string split back; for clients). */
export function splitVaultErrors(errors: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    const m = /^\d+ errors occurred:\n([\s\S]*)$/.exec(e);
    if (!m?.[1]) {
      out.push(e);
      continue;
    }
    for (const line of m[1].split('\n')) if (line.startsWith('\t* ')) out.push(line.slice(3));
  }
  return out;
}
