/**
 * What the remote tip still lacks, as `status` shows it: the required number, the trusted keys
 * whose signatures counted (name, kind — pgp or ssh — and fingerprint), the signatures that did
 * not count and why (with the kind and the fingerprint of the key they name),
 * and how many are missing. The signature step builds it from the policy's answer (or from its
 * SIGNATURES_INSUFFICIENT error); the summariser stores it with the poll state, so every poll
 * that evaluates the tip refreshes it, and approvers see it without reading a failed task.
 */
import { shownDetail } from './signature-reason.js';
import { isAppError } from '../errors.js';
import type { SignatureCheckResult } from './run-context.js';

/** A trusted key that signed. `kind` is absent in reports stored before SSH keys existed. */
export interface ReportedSigner {
  readonly name: string;
  readonly kind?: string;
  readonly fingerprint: string;
  readonly source: string;
}

/** A signature that did not count; `kind` absent when the line was not even base64. */
export interface ReportedRejection {
  readonly source: string;
  readonly kind?: string;
  readonly index?: number;
  readonly reason: string;
  readonly detail: string;
  /** Fingerprint (or key id) of the key the signature names, when it could be read. */
  readonly issuer?: string;
}

/** The report of one commit (stored inside the poll state). */
export interface SignatureReport {
  readonly commit: string;
  readonly required: number;
  readonly valid: readonly ReportedSigner[];
  readonly rejected: readonly ReportedRejection[];
  readonly missing: number;
}

interface SignerLike {
  readonly kind?: unknown;
  readonly fingerprint?: unknown;
  readonly keyNames?: unknown;
  readonly source?: unknown;
}

function signersOf(list: readonly unknown[]): ReportedSigner[] {
  return list.map((raw) => {
    const s = (typeof raw === 'string' ? { fingerprint: raw } : raw) as SignerLike;
    const names = Array.isArray(s.keyNames) ? s.keyNames.map(String) : [];
    return {
      name: names.join(', '),
      ...(typeof s.kind === 'string' ? { kind: s.kind } : {}),
      fingerprint: String(s.fingerprint ?? ''),
      source: String(s.source ?? ''),
    };
  });
}

function rejectionsOf(list: readonly unknown[]): ReportedRejection[] {
  return list.map((raw) => {
    const r = raw as Record<string, unknown>;
    return {
      source: String(r.source ?? ''),
      ...(typeof r.kind === 'string' ? { kind: r.kind } : {}),
      ...(typeof r.index === 'number' ? { index: r.index } : {}),
      ...(typeof r.issuer === 'string' ? { issuer: r.issuer } : {}),
      reason: String(r.reason ?? ''),
      detail: shownDetail(String(r.detail ?? '')),
    };
  });
}

function report(
  commit: string,
  required: number,
  valid: ReportedSigner[],
  rejected: ReportedRejection[],
): SignatureReport {
  return { commit, required, valid, rejected, missing: Math.max(0, required - valid.length) };
}

/** The report of a policy answer (signers in detail when the policy gave them). */
export function reportOfResult(
  commit: string,
  required: number,
  result: SignatureCheckResult,
): SignatureReport {
  const valid = signersOf(result.valid ?? result.signers);
  return report(commit, required, valid, rejectionsOf(result.rejected));
}

/** The report carried by a SIGNATURES_INSUFFICIENT error, or undefined for any other error. */
export function reportOfError(
  commit: string,
  required: number,
  e: unknown,
): SignatureReport | undefined {
  if (!isAppError(e, 'SIGNATURES_INSUFFICIENT')) return undefined;
  const d = e.details ?? {};
  const valid = Array.isArray(d['valid'])
    ? d['valid']
    : Array.isArray(d['signers'])
      ? d['signers']
      : [];
  const rejected = Array.isArray(d['rejected']) ? d['rejected'] : [];
  return report(commit, required, signersOf(valid), rejectionsOf(rejected));
}

/** `note line 2 (ssh SHA256:…): unknown-key (…)`, the same words as the failure reason. */
function describeRejection(x: ReportedRejection): string {
  const where =
    x.source !== 'note' ? x.source : x.index === undefined ? 'note' : `note line ${x.index}`;
  const who =
    x.kind === undefined ? '' : ` (${x.kind}${x.issuer === undefined ? '' : ` ${x.issuer}`})`;
  return `${where}${who}: ${x.reason}${x.detail ? ` (${x.detail})` : ''}`;
}

/** The one-line summary `status` shows, e.g. `1 of 2, missing 1`. */
export function summaryLine(r: SignatureReport): string {
  return `${r.valid.length} of ${r.required}, missing ${r.missing}`;
}

/** The fields `status` shows for the remote tip (all null when no report is about it). */
export function statusFields(
  r: SignatureReport | undefined | null,
  remoteTip: string | undefined,
): Record<string, unknown> {
  const about = r && remoteTip !== undefined && r.commit === remoteTip ? r : undefined;
  if (!about) {
    return {
      tip_signatures: null,
      tip_signatures_required: null,
      tip_signatures_valid: null,
      tip_signatures_rejected: null,
      tip_signatures_missing: null,
    };
  }
  return {
    tip_signatures: summaryLine(about),
    tip_signatures_required: about.required,
    tip_signatures_valid: about.valid.map(
      (s) => `${s.name || '(unnamed)'} ${s.kind === undefined ? '' : `${s.kind} `}${s.fingerprint}`,
    ),
    tip_signatures_rejected: about.rejected.map(describeRejection),
    tip_signatures_missing: about.missing,
  };
}
