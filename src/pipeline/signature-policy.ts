/**
 * The signature policy of a run (docs/compat.md, "Signatures") as a function of data: given the raw tip commit, its
 * signature notes and the prepared trusted keys, count the distinct trusted keys that signed it
 * (its own gpgsig plus note signatures over the commit id) and compare with the required number.
 * PGP and SSH signatures count alike: each trusted key — a PGP primary fingerprint or an SSH
 * `SHA256:` fingerprint — counts once, whichever sources carry it. Git reads happen before this
 * step; PGP verification is delegated to a SignatureVerifier, SSH to the pure SSHSIG verifier.
 */
import { AppError } from '../errors.js';
import type { PreparedKeys, RejectionReason, SignatureVerifier } from '../pgp/types.js';
import type { PreparedSshKeys, SshRejectionReason } from '../sshsig/types.js';
import { prepareSshKeys, verifySshSignature } from '../sshsig/verify.js';
import type { SignaturePolicy } from './run-context.js';
import { insufficientReason } from './signature-reason.js';
import {
  gpgsigKind,
  noteSignatureLines,
  splitSignedCommit,
  type SignatureKind,
  type UnreadNote,
} from './signature-sources.js';

/** Where a signature was found. */
export type SignatureSource = 'gpgsig' | 'note';

/** Why a signature of either kind did not count. */
export type SignatureRejectionReason = RejectionReason | SshRejectionReason;

/** Everything the policy needs about one commit. */
export interface SignaturePolicyInput {
  /** The commit id (40 hex); note signatures sign its lower-case form, no newline. */
  readonly commitId: string;
  /** Exactly what `git cat-file commit <id>` prints. */
  readonly rawCommit: Uint8Array;
  /** The commit's note from refs/notes/signatures and/or the latest-signature tag (or absent). */
  readonly notes: readonly (string | UnreadNote | undefined)[];
  /** required_number_of_verified_signatures_on_commit (≥ 0, validated upstream). */
  readonly required: number;
  /** Trusted PGP keys. */
  readonly keys: PreparedKeys;
  readonly verifier: SignatureVerifier;
  /** Trusted SSH keys; absent: none. */
  readonly sshKeys?: PreparedSshKeys;
}

/** A trusted key that signed the commit (counted once, from the first source that showed it). */
export interface CountedSigner {
  readonly kind: SignatureKind;
  /** PGP: upper-case hex primary fingerprint; SSH: `SHA256:` + base64. */
  readonly fingerprint: string;
  /** Every name the key is stored under. */
  readonly keyNames: readonly string[];
  readonly source: SignatureSource;
}

/** A signature that did not count, and why. */
export interface RejectedSignature {
  readonly source: SignatureSource;
  /** Absent for a note line that is not even base64. */
  readonly kind?: SignatureKind;
  /** 1-based note line among the distinct lines (notes only). */
  readonly index?: number;
  readonly reason: SignatureRejectionReason;
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
  readonly kind: SignatureKind;
  readonly index?: number;
  readonly signature: string | Uint8Array;
  readonly payload: Uint8Array;
}

/** One verdict, whichever kind gave it. */
type Verdict =
  | { readonly ok: true; readonly fingerprint: string }
  | {
      readonly ok: false;
      readonly reason: SignatureRejectionReason;
      readonly detail: string;
      readonly issuer?: string;
    };

const NO_SSH_KEYS = prepareSshKeys([]);

/** Collect the signatures to check: the gpgsig first, then each distinct note line. */
function candidates(input: SignaturePolicyInput, rejected: RejectedSignature[]): Candidate[] {
  const list: Candidate[] = [];
  const commit = splitSignedCommit(input.rawCommit);
  if (commit.signature !== undefined) {
    const kind = gpgsigKind(commit.signature);
    list.push({ source: 'gpgsig', kind, signature: commit.signature, payload: commit.payload });
  }
  const notes = noteSignatureLines(input.notes);
  for (const m of notes.malformed) {
    const at = m.index === undefined ? {} : { index: m.index };
    rejected.push({ source: 'note', ...at, reason: 'malformed', detail: m.detail });
  }
  const signedId = new TextEncoder().encode(input.commitId.toLowerCase());
  for (const s of notes.signatures) {
    list.push({
      source: 'note',
      kind: s.kind,
      index: s.index,
      signature: s.bytes,
      payload: signedId,
    });
  }
  return list;
}

async function verifyOne(input: SignaturePolicyInput, c: Candidate): Promise<Verdict> {
  if (c.kind === 'ssh') {
    const o = verifySshSignature(c.signature, c.payload, input.sshKeys ?? NO_SSH_KEYS);
    return o.ok ? { ok: true, fingerprint: o.fingerprint } : o;
  }
  const o = await input.verifier.verifyDetached(c.signature, c.payload, input.keys);
  return o.ok ? { ok: true, fingerprint: o.primaryFingerprint } : o;
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
  const verdicts = await Promise.all(list.map((c) => verifyOne(input, c)));
  const signers: CountedSigner[] = [];
  list.forEach((c, i) => {
    const v = verdicts[i];
    if (!v) return;
    const at = c.index === undefined ? {} : { index: c.index };
    if (!v.ok) {
      const issuer = v.issuer === undefined ? {} : { issuer: v.issuer };
      rejected.push({
        source: c.source,
        kind: c.kind,
        ...at,
        reason: v.reason,
        detail: v.detail,
        ...issuer,
      });
      return;
    }
    if (signers.some((s) => s.kind === c.kind && s.fingerprint === v.fingerprint)) return;
    const names =
      c.kind === 'ssh' ? input.sshKeys?.namesByFingerprint : input.keys.namesByFingerprint;
    const keyNames = names?.get(v.fingerprint) ?? [];
    signers.push({ kind: c.kind, fingerprint: v.fingerprint, keyNames, source: c.source });
  });
  // Note lines in order; what a bound left out (no index) after them.
  const at = (r: RejectedSignature): number => r.index ?? Number.MAX_SAFE_INTEGER;
  rejected.sort((a, b) => (a.source === b.source ? at(a) - at(b) : a.source === 'gpgsig' ? -1 : 1));
  const base = { required: input.required, validCount: signers.length, signers, rejected };
  if (signers.length >= input.required) return { ok: true, ...base };
  const ssh = input.sshKeys ?? NO_SSH_KEYS;
  const reason = insufficientReason({
    commitId: input.commitId,
    required: input.required,
    signers,
    rejected,
    trustedCount: input.keys.count + ssh.count,
    unusable: [
      ...input.keys.unusable.map((u) => ({ kind: 'pgp' as const, ...u })),
      ...ssh.unusable.map((u) => ({ kind: 'ssh' as const, ...u })),
    ],
  });
  const error = new AppError('SIGNATURES_INSUFFICIENT', reason, {
    details: {
      commit: input.commitId,
      required: input.required,
      validCount: signers.length,
      signers: signers.map((s) => s.fingerprint),
      signerKinds: signers.map((s) => s.kind),
      valid: signers.map((s) => ({ ...s })),
      rejected: rejected.map((r) => ({
        source: r.source,
        kind: r.kind,
        index: r.index,
        reason: r.reason,
        issuer: r.issuer,
        detail: r.detail,
      })),
    },
  });
  return { ok: false, ...base, error };
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
 * prepares the stored keys of both kinds once for this check, and throws SIGNATURES_INSUFFICIENT
 * with the full explanation (who signed, what was rejected and why) when not enough trusted keys
 * signed. Signers are returned as fingerprints (PGP hex, SSH `SHA256:…`).
 */
export const pipelineSignaturePolicy: SignaturePolicy = async (input) => {
  const keys = await input.verifier.prepare(input.keys);
  const sshKeys = prepareSshKeys(input.sshKeys ?? []);
  const result = await requireSignatures({ ...input, keys, sshKeys });
  return {
    ok: result.ok,
    validCount: result.validCount,
    signers: result.signers.map((s) => s.fingerprint),
    rejected: result.rejected,
    valid: result.signers,
  };
};
