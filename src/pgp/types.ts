/**
 * The PGP capability in our own types. Only src/pgp/ implements it (over openpgp.js).
 * Verification is pure: bytes and keys in, a signer or a typed rejection out; the policy (how
 * many, which sources) lives in the pipeline.
 */

/** What a trusted public key is, as shown by the API (no library types). */
export interface KeyInfo {
  /** Upper-case hex fingerprint of the primary key. */
  readonly primaryFingerprint: string;
  /** Fingerprints of the subkeys (upper-case hex). */
  readonly subkeyFingerprints: readonly string[];
  readonly userIds: readonly string[];
  readonly algorithm: string;
  readonly created: string;
  /** ISO time, or null when the key never expires. */
  readonly expires: string | null;
  readonly revoked: boolean;
}

/** Parses and checks armored public keys (used when a key is written through the API). */
export interface KeyInspector {
  /** Throws AppError PGP_INVALID (naming the problem) when `armored` is not one usable public key. */
  inspect(armored: string): Promise<KeyInfo>;
}

/** A named trusted key as stored. */
export interface TrustedKey {
  readonly name: string;
  readonly publicKey: string;
}

/** Keys parsed once per check; opaque to callers. */
export interface PreparedKeys {
  readonly count: number;
  /** Names by primary fingerprint (a key stored twice under two names lists both). */
  readonly namesByFingerprint: ReadonlyMap<string, readonly string[]>;
  /** Stored keys that could not be used (one bad key must not break every check). */
  readonly unusable: readonly { readonly name: string; readonly detail: string }[];
}

/** Why a signature was not accepted. */
export type RejectionReason =
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired-key'
  | 'revoked-key'
  | 'outside-key-validity';

/** The outcome of verifying one signature. */
export type VerifyOutcome =
  | { readonly ok: true; readonly primaryFingerprint: string; readonly signedAt: string }
  | {
      readonly ok: false;
      readonly reason: RejectionReason;
      readonly detail: string;
      /** Issuer key id or fingerprint when the signature names one. */
      readonly issuer?: string;
    };

/** Verifies detached signatures over bytes. */
export interface SignatureVerifier {
  /** Parse the keys once; the result is reused for every signature of a check. */
  prepare(keys: readonly TrustedKey[]): Promise<PreparedKeys>;
  /** `signature` is armored text or binary bytes. */
  verifyDetached(
    signature: string | Uint8Array,
    payload: Uint8Array,
    keys: PreparedKeys,
  ): Promise<VerifyOutcome>;
}
