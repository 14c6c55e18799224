/**
 * The signature policy of a run (docs/compat.md, "Signatures") as a function of data: given the raw tip commit, its
 * signature notes and the prepared trusted keys, count the distinct trusted keys that signed it
 * (its own gpgsig plus note signatures over the commit id) and compare with the required number.
 * Git reads happen before this step; verification is delegated to a SignatureVerifier.
 */
import { AppError } from '../errors.js';
import type { PreparedKeys, RejectionReason, SignatureVerifier } from '../pgp/types.js';
import type { SignaturePolicy } from './run-context.js';
import { noteSignatureLines, splitSignedCommit } from './signature-sources.js';

/** Where a signature was found. */
export type SignatureSource = 'gpgsig' | 'note';

/** Everything the policy needs about one commit. */
export interface SignaturePolicyInput {
  /** The commit id (40 hex); note signatures sign its lower-case form, no newline. */
  readonly commitId: string;
  /** Exactly what `git cat-file commit <id>` prints. */
  readonly rawCommit: Uint8Array;
  /** The commit's note from refs/notes/signatures and/or the latest-signature tag (or absent). */
  readonly notes: readonly (string | undefined)[];
  /** required_number_of_verified_signatures_on_commit (≥ 0, validated upstream). */
  readonly required: number;
  readonly keys: PreparedKeys;
  readonly verifier: SignatureVerifier;
}

/** A trusted key that signed the commit (counted once, from the first source that showed it). */
export interface CountedSigner {
  readonly fingerprint: string;
  /** Every name the key is stored under. */
  readonly keyNames: readonly string[];
  readonly source: SignatureSource;
}

/** A signature that did not count, and why. */
export interface RejectedSignature {
  readonly source: SignatureSource;
  /** 1-based note line among the distinct lines (notes only). */
  readonly index?: number;
  readonly reason: RejectionReason;
  readonly detail: string;
  readonly issuer?: string;
}

/** The outcome of the policy; `error` (SIGNATURES_INSUFFICIENT) is set exactly when not ok. */
export interface SignaturePolicyResult {
  readonly ok: boolean;
  readonly required: number;
  readonly validCount: number;
  readonly signers: readonly CountedSigner[];
  readonly rejected: readonly RejectedSignature[];
  readonly error?: AppError;
}

interface Candidate {
  readonly source: SignatureSource;
  readonly index?: number;
  readonly signature: string | Uint8Array;
  readonly payload: Uint8Array;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function describeRejected(r: RejectedSignature): string {
  const where = r.source === 'note' ? `note line ${String(r.index ?? '?')}` : 'gpgsig';
  return `${where}: ${r.reason} (${oneLine(r.detail)})`;
}

/** The one-line reason of SIGNATURES_INSUFFICIENT: counts, who signed, what was rejected. */
function insufficientReason(input: SignaturePolicyInput, result: SignaturePolicyResult): string {
  const parts = [
    `commit ${input.commitId} has ${result.validCount} valid signature(s) from trusted keys, ` +
      `${result.required} required`,
  ];
  if (result.signers.length > 0) {
    const who = result.signers.map((s) => `${s.fingerprint} (${s.keyNames.join(', ')})`);
    parts.push(`signed by ${who.join(', ')}`);
  }
  if (result.rejected.length > 0)
    parts.push(`rejected: ${result.rejected.map(describeRejected).join('; ')}`);
  if (input.keys.count === 0) parts.push('no trusted keys are configured');
  for (const u of input.keys.unusable)
    parts.push(`trusted key ${u.name} is unusable (${oneLine(u.detail)})`);
  return parts.join('; ');
}

/** Collect the signatures to check: the gpgsig first, then each distinct note line. */
function candidates(input: SignaturePolicyInput, rejected: RejectedSignature[]): Candidate[] {
  const list: Candidate[] = [];
  const commit = splitSignedCommit(input.rawCommit);
  if (commit.signature !== undefined) {
    list.push({ source: 'gpgsig', signature: commit.signature, payload: commit.payload });
  }
  const notes = noteSignatureLines(input.notes);
  for (const m of notes.malformed) {
    rejected.push({ source: 'note', index: m.index, reason: 'malformed', detail: m.detail });
  }
  const signedId = new TextEncoder().encode(input.commitId.toLowerCase());
  for (const s of notes.signatures) {
    list.push({ source: 'note', index: s.index, signature: s.bytes, payload: signedId });
  }
  return list;
}

/**
 * Evaluate the policy for one commit. Each trusted key counts at most once, whichever sources
 * carry it; N = 0 always passes (signatures are still checked and reported).
 */
export async function evaluateSignatures(
  input: SignaturePolicyInput,
): Promise<SignaturePolicyResult> {
  const rejected: RejectedSignature[] = [];
  const list = candidates(input, rejected);
  const outcomes = await Promise.all(
    list.map((c) => input.verifier.verifyDetached(c.signature, c.payload, input.keys)),
  );
  const signers: CountedSigner[] = [];
  list.forEach((c, i) => {
    const outcome = outcomes[i];
    if (!outcome) return;
    const at = c.index === undefined ? {} : { index: c.index };
    if (!outcome.ok) {
      const issuer = outcome.issuer === undefined ? {} : { issuer: outcome.issuer };
      rejected.push({
        source: c.source,
        ...at,
        reason: outcome.reason,
        detail: outcome.detail,
        ...issuer,
      });
      return;
    }
    if (signers.some((s) => s.fingerprint === outcome.primaryFingerprint)) return;
    const keyNames = input.keys.namesByFingerprint.get(outcome.primaryFingerprint) ?? [];
    signers.push({ fingerprint: outcome.primaryFingerprint, keyNames, source: c.source });
  });
  rejected.sort((a, b) =>
    a.source === b.source ? (a.index ?? 0) - (b.index ?? 0) : a.source === 'gpgsig' ? -1 : 1,
  );
  const base = { required: input.required, validCount: signers.length, signers, rejected };
  if (signers.length >= input.required) return { ok: true, ...base };
  const result: SignaturePolicyResult = { ok: false, ...base };
  const error = new AppError('SIGNATURES_INSUFFICIENT', insufficientReason(input, result), {
    details: {
      commit: input.commitId,
      required: input.required,
      validCount: signers.length,
      signers: signers.map((s) => s.fingerprint),
      valid: signers.map((s) => ({ ...s })),
      rejected: rejected.map((r) => ({
        source: r.source,
        index: r.index,
        reason: r.reason,
        issuer: r.issuer,
        detail: r.detail,
      })),
    },
  });
  return { ...result, error };
}

/** Evaluate and throw SIGNATURES_INSUFFICIENT when not enough trusted keys signed. */
export async function requireSignatures(
  input: SignaturePolicyInput,
): Promise<SignaturePolicyResult> {
  const result = await evaluateSignatures(input);
  if (result.error) throw result.error;
  return result;
}

/**
 * The policy in the shape the pipeline's signature step calls (src/pipeline/run-context.ts):
 * prepares the stored keys once for this check, and throws SIGNATURES_INSUFFICIENT with the full
 * explanation (who signed, what was rejected and why) when not enough trusted keys signed.
 * Signers are returned as primary fingerprints.
 */
export const pipelineSignaturePolicy: SignaturePolicy = async (input) => {
  const keys = await input.verifier.prepare(input.keys);
  const result = await requireSignatures({ ...input, keys });
  return {
    ok: result.ok,
    validCount: result.validCount,
    signers: result.signers.map((s) => s.fingerprint),
    rejected: result.rejected,
    valid: result.signers,
  };
};
