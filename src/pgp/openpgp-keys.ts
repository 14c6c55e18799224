/**
 * Reading and describing public keys with openpgp.js, shared by the key inspector (API writes)
 * and the verifier (prepare). Every problem becomes AppError PGP_INVALID with a reason a person
 * can act on; key material never appears in a message.
 */
// Loaded on first use (see openpgp.ts); only types are imported statically.
import type { AlgorithmInfo, PublicKey, Subkey } from 'openpgp';

/** The openpgp.js module, as `import('openpgp')` gives it (the callers load it on first use). */
export type OpenPgp = typeof import('openpgp');
import { AppError } from '../errors.js';
import type { KeyInfo } from './types.js';

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function invalid(reason: string, cause?: unknown): AppError {
  return new AppError('PGP_INVALID', `public_key ${reason}`, cause === undefined ? {} : { cause });
}

/**
 * Parse `armored` as exactly one OpenPGP public key. Throws PGP_INVALID for empty input, text
 * that is not an armored key, several keys, or a private key.
 */
export async function readOnePublicKey({ readKeys }: OpenPgp, armored: string): Promise<PublicKey> {
  if (armored.trim() === '') throw invalid('is empty; give an armored OpenPGP public key');
  if (!armored.includes('-----BEGIN PGP')) {
    throw invalid('is not ASCII-armored OpenPGP data (no "-----BEGIN PGP" line)');
  }
  const blocks = armored.match(/^-----BEGIN PGP [A-Z ]+-----/gm)?.length ?? 0;
  if (blocks > 1) throw invalid(`holds ${blocks} armored blocks; give exactly one key per name`);
  let keys;
  try {
    keys = await readKeys({ armoredKeys: armored });
  } catch (e) {
    throw invalid(`could not be read as an OpenPGP key: ${messageOf(e)}`, e);
  }
  const [key] = keys;
  if (!key) throw invalid('holds no key');
  if (keys.some((k) => k.isPrivate())) {
    throw invalid('is a private key; give the public key (gpg --armor --export <fingerprint>)');
  }
  if (keys.length !== 1) {
    throw invalid(`holds ${keys.length} keys; give exactly one key per name`);
  }
  return key as PublicKey;
}

/** Upper-case hex fingerprint, the form gpg prints and the API shows. */
export function fingerprintOf(key: PublicKey | Subkey): string {
  return key.getFingerprint().toUpperCase();
}

/** A short algorithm label such as "eddsaLegacy ed25519Legacy" or "rsaEncryptSign 2048". */
export function algorithmLabel(info: AlgorithmInfo): string {
  const extra = info.bits ?? info.curve;
  return extra === undefined ? info.algorithm : `${info.algorithm} ${String(extra)}`;
}

/** The expiry of the primary key: a Date, or null when it never expires (or cannot be read). */
export async function primaryExpiry(key: PublicKey): Promise<Date | null> {
  const t = await key.getExpirationTime().catch(() => null);
  return t instanceof Date ? t : null;
}

/** What the API shows about a key. */
export async function describeKey(key: PublicKey): Promise<KeyInfo> {
  const expires = await primaryExpiry(key);
  return {
    primaryFingerprint: fingerprintOf(key),
    subkeyFingerprints: key.subkeys.map(fingerprintOf),
    userIds: key.getUserIDs(),
    algorithm: algorithmLabel(key.getAlgorithmInfo()),
    created: key.getCreationTime().toISOString(),
    expires: expires ? expires.toISOString() : null,
    revoked: await key.isRevoked(),
  };
}

/**
 * Throws PGP_INVALID when an unrevoked key has no (sub)key that could ever make a signature we
 * accept (wrong key flags, weak algorithm, broken self-signatures). Time is ignored: an expired
 * key is still a well-formed key; the verifier rejects its signatures with its own reason.
 */
export async function assertCanSign(key: PublicKey): Promise<void> {
  if (await key.isRevoked()) return;
  try {
    // openpgp.js skips every time check when the date is null (its typings only say Date).
    await key.getSigningKey(undefined, null as unknown as Date);
  } catch (e) {
    throw invalid(`has no key usable for signing: ${messageOf(e)}`, e);
  }
}
