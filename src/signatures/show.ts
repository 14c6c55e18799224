/**
 * `flant-gitops signatures show`: which signatures a commit carries and which trusted keys of a
 * mount they belong to, judged by the gate's own code (signature-policy.ts over the OpenPGP
 * verifier) on the same inputs the gate reads — the commit's gpgsig and the notes of
 * refs/notes/signatures and of the latest-signature tag.
 */
import type { WorkRepo } from '../git/work-repo.js';
import { evaluateSignatures, type SignaturePolicyResult } from '../pipeline/signature-policy.js';
import type { SignatureVerifier, TrustedKey } from '../pgp/types.js';
import type { TrustedSshKey } from '../sshsig/types.js';
import { prepareSshKeys } from '../sshsig/verify.js';

/** What `show` found about one commit. */
export interface ShownSignatures {
  readonly commit: string;
  readonly result: SignaturePolicyResult;
}

/** Evaluate `commit` of `repo` against `keys` with the gate's policy. */
export async function showSignatures(
  repo: WorkRepo,
  commit: string,
  keys: readonly TrustedKey[],
  required: number,
  verifier: SignatureVerifier,
  sshKeys: readonly TrustedSshKey[] = [],
): Promise<ShownSignatures> {
  const rawCommit = await repo.readCommit(commit);
  const notes = [
    await repo.readNote(commit, 'notes-ref'),
    await repo.readNote(commit, 'latest-signature-tag'),
  ];
  const prepared = await verifier.prepare(keys);
  const result = await evaluateSignatures({
    commitId: commit,
    rawCommit,
    notes,
    required,
    keys: prepared,
    verifier,
    sshKeys: prepareSshKeys(sshKeys),
  });
  return { commit, result };
}

/** The human report: one line per valid and per rejected signature, then what is missing. */
export function formatShown(s: ShownSignatures): string {
  const r = s.result;
  const lines = [`commit ${s.commit}`];
  lines.push(`${r.validCount} of ${r.required} required signature(s) from trusted keys`);
  for (const v of r.signers) {
    lines.push(
      `  valid     ${v.keyNames.join(', ') || '(unnamed)'}  ${v.fingerprint}  (${v.source}, ${v.kind})`,
    );
  }
  for (const x of r.rejected) {
    const where = x.source === 'note' ? `note line ${x.index ?? '?'}` : 'gpgsig';
    const detail = x.detail.replace(/\s+/g, ' ').trim();
    const who = x.kind === undefined ? '' : ` [${x.kind}${x.issuer ? ` ${x.issuer}` : ''}]`;
    lines.push(`  rejected  ${where}: ${x.reason}${who}${detail ? ` (${detail})` : ''}`);
  }
  lines.push(`missing: ${Math.max(0, r.required - r.validCount)}`);
  return `${lines.join('\n')}\n`;
}

/** The same as JSON, for scripts. */
export function jsonShown(s: ShownSignatures): Record<string, unknown> {
  const r = s.result;
  return {
    commit: s.commit,
    required: r.required,
    valid: r.signers.map((v) => ({
      names: v.keyNames,
      kind: v.kind,
      fingerprint: v.fingerprint,
      source: v.source,
    })),
    rejected: r.rejected.map((x) => ({
      source: x.source,
      kind: x.kind,
      index: x.index,
      reason: x.reason,
      issuer: x.issuer,
      detail: x.detail,
    })),
    missing: Math.max(0, r.required - r.validCount),
  };
}
