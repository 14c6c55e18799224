/**
 * The words of the signature policy's verdict: one line that says how many trusted keys signed,
 * which ones (kind and fingerprint, so an operator can tell alice's PGP key from bob's SSH key),
 * and why every other signature did not count. Kept apart from the counting so the policy reads
 * as the rule and this file as its explanation.
 */
import { REASON_MAX_CHARS, REJECTION_DETAIL_MAX_CHARS, truncateText } from '../config/limits.js';
import type { SignatureKind } from './signature-sources.js';

/** The parts of a counted signer the report names. */
export interface ReportedSigner {
  readonly kind: SignatureKind;
  readonly fingerprint: string;
  readonly keyNames: readonly string[];
}

/** The parts of a rejected signature the report names. */
export interface ReportedRejection {
  readonly source: 'gpgsig' | 'note';
  readonly kind?: SignatureKind;
  readonly index?: number;
  readonly reason: string;
  readonly detail: string;
  readonly issuer?: string;
}

/** What the one-line reason is built from. */
export interface ReportInput {
  readonly commitId: string;
  readonly required: number;
  readonly signers: readonly ReportedSigner[];
  readonly rejected: readonly ReportedRejection[];
  /** Trusted keys usable in this check, of both kinds together. */
  readonly trustedCount: number;
  readonly unusable: readonly {
    readonly kind: SignatureKind;
    readonly name: string;
    readonly detail: string;
  }[];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A rejection's detail as shown: one line, at most REJECTION_DETAIL_MAX_CHARS. */
export function shownDetail(detail: string): string {
  return truncateText(
    oneLine(detail.slice(0, 4 * REJECTION_DETAIL_MAX_CHARS)),
    REJECTION_DETAIL_MAX_CHARS,
  );
}

/** `pgp 0123…ABCD (alice, alice-laptop)` or `ssh SHA256:… (bob)`. */
export function describeSigner(s: ReportedSigner): string {
  return `${s.kind} ${s.fingerprint} (${s.keyNames.join(', ')})`;
}

/** `note line 2 (ssh SHA256:…): unknown-key (key … is not a trusted SSH key)`. */
export function describeRejected(r: ReportedRejection): string {
  const where =
    r.source === 'gpgsig' ? 'gpgsig' : r.index === undefined ? 'note' : `note line ${r.index}`;
  const who =
    r.kind === undefined ? '' : ` (${r.kind}${r.issuer === undefined ? '' : ` ${r.issuer}`})`;
  return `${where}${who}: ${r.reason} (${shownDetail(r.detail)})`;
}

/** The one-line reason of SIGNATURES_INSUFFICIENT: counts, who signed, what was rejected. */
export function insufficientReason(input: ReportInput): string {
  const parts = [
    `commit ${input.commitId} has ${input.signers.length} valid signature(s) from trusted keys, ` +
      `${input.required} required`,
  ];
  if (input.signers.length > 0)
    parts.push(`signed by ${input.signers.map(describeSigner).join(', ')}`);
  if (input.rejected.length > 0)
    parts.push(`rejected: ${input.rejected.map(describeRejected).join('; ')}`);
  if (input.trustedCount === 0) parts.push('no trusted keys are configured');
  for (const u of input.unusable) {
    parts.push(
      `trusted ${u.kind === 'ssh' ? 'SSH ' : ''}key ${u.name} is unusable (${oneLine(u.detail)})`,
    );
  }
  return truncateText(parts.join('; '), REASON_MAX_CHARS);
}
