/**
 * The SSH signature capability in our own types, beside the PGP one (src/pgp/types.ts).
 * Verification is pure: an SSHSIG signature, the signed bytes and the prepared trusted keys in;
 * the signer's fingerprint or a typed rejection out. How many signers a commit needs is the
 * pipeline's business (signature-policy.ts).
 */
import type { SshPublicKey } from './keys.js';

/** A named trusted SSH key as stored: one `authorized_keys`-style line. */
export interface TrustedSshKey {
  readonly name: string;
  readonly publicKey: string;
}

/** Trusted keys parsed once per check; look-up is by the exact key blob. */
export interface PreparedSshKeys {
  readonly count: number;
  /** Parsed keys by base64 of their wire blob (what a signature embeds). */
  readonly byBlob: ReadonlyMap<string, SshPublicKey>;
  /** Names by `SHA256:` fingerprint (a key stored under two names lists both). */
  readonly namesByFingerprint: ReadonlyMap<string, readonly string[]>;
  /** Stored keys that could not be used (one bad key must not break every check). */
  readonly unusable: readonly { readonly name: string; readonly detail: string }[];
}

/**
 * Why an SSH signature was not accepted. `weak-algorithm` is an `ssh-rsa` (SHA-1) signature;
 * `unsupported-algorithm` is a hash or signature algorithm we do not know.
 */
export type SshRejectionReason =
  | 'malformed'
  | 'wrong-namespace'
  | 'unsupported-algorithm'
  | 'weak-algorithm'
  | 'unknown-key'
  | 'bad-signature';

/** The outcome of verifying one SSH signature. */
export type SshVerifyOutcome =
  | {
      readonly ok: true;
      /** `SHA256:` fingerprint of the trusted key that signed. */
      readonly fingerprint: string;
      readonly keyType: string;
      /** e.g. `rsa-sha2-512`, `ssh-ed25519`. */
      readonly signatureAlgorithm: string;
      readonly hashAlgorithm: string;
    }
  | {
      readonly ok: false;
      readonly reason: SshRejectionReason;
      readonly detail: string;
      /** Fingerprint of the key the signature embeds, when it could be read. */
      readonly issuer?: string;
    };
