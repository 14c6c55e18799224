/**
 * The signature step: apply the N-of-M policy to the tip with the trusted keys from the store
 * and the signature notes from both sources (refs/notes/signatures and the latest-signature tag).
 * Verification itself is the policy's and the verifier's business; this step gathers the inputs.
 * N = 0 needs no signature, so nothing is read or verified then.
 */
import type { MountSettings } from '../config/mount-settings.js';
import { AppError } from '../errors.js';
import type { TrustedKey } from '../pgp/types.js';
import type { TrustedSshKey } from '../sshsig/types.js';
import { progress, type Step } from './run-context.js';
import { reportOfError, reportOfResult } from './signature-report.js';
import type { UnreadNote } from './signature-sources.js';

/** The trusted keys of a mount, in name order. */
export async function loadTrustedKeys(settings: MountSettings): Promise<TrustedKey[]> {
  return (await settings.trustedKeys.all()).map(({ name, value }) => ({
    name: value.name || name,
    publicKey: value.public_key,
  }));
}

/** The trusted SSH keys of a mount, in name order (one authorized_keys line each). */
export async function loadTrustedSshKeys(settings: MountSettings): Promise<TrustedSshKey[]> {
  return (await settings.trustedSshKeys.all()).map(({ name, value }) => ({
    name: value.name || name,
    publicKey: value.public_key,
  }));
}

/** N = 0 needs no signature; otherwise at least N trusted keys must have signed the tip. */
export const checkSignatures: Step = {
  name: 'check-signatures',
  async run(deps, input, state) {
    const required = input.config.required_number_of_verified_signatures_on_commit;
    const { tip, refs } = state;
    if (tip === undefined || refs === undefined) {
      throw new AppError('INTERNAL', 'signatures checked before the tip is known');
    }
    if (required <= 0) {
      state.signatures = { commit: tip, required: 0, valid: [], rejected: [], missing: 0 };
      progress(input, 'no signatures required');
      return 'continue';
    }
    const keys = await loadTrustedKeys(deps.settings);
    const sshKeys = await loadTrustedSshKeys(deps.settings);
    const rawCommit = await deps.mirror.readCommit(tip);
    // Notes are read only from sources the remote advertises now (a deleted ref means no notes).
    const notes: (string | UnreadNote)[] = [];
    if (refs.notes !== undefined) {
      const n = await deps.mirror.readSignatureNotes(tip, 'notes-ref');
      if (n !== undefined) notes.push(n);
    }
    if (refs.latestSignatureTag !== undefined) {
      const n = await deps.mirror.readSignatureNotes(tip, 'latest-signature-tag');
      if (n !== undefined) notes.push(n);
    }
    let result;
    try {
      result = await deps.checkSignatures({
        commitId: tip,
        rawCommit,
        notes,
        required,
        keys,
        sshKeys,
        verifier: deps.verifier,
      });
    } catch (e) {
      const report = reportOfError(tip, required, e);
      if (report) state.signatures = report;
      throw e;
    }
    state.signatures = reportOfResult(tip, required, result);
    if (!result.ok || result.validCount < required) {
      throw new AppError(
        'SIGNATURES_INSUFFICIENT',
        `commit ${tip} has ${result.validCount} valid signature(s) from trusted keys, ${required} required`,
        {
          details: {
            commit: tip,
            valid: result.validCount,
            required,
            signers: [...result.signers],
          },
        },
      );
    }
    state.signers = result.signers;
    progress(
      input,
      `signed by ${result.signers.join(', ')} (${result.validCount} of ${required} required)`,
    );
    return 'continue';
  },
};
