/**
 * SSH public keys: the wire blob (as embedded in a signature) and the `authorized_keys` line an
 * operator trusts. Parsing turns a key into a Node KeyObject once, so verification only compares
 * blobs and calls node:crypto. Fingerprints are printed the way `ssh-keygen -l` prints them, so
 * an operator can match what the API shows with what the approver sees.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { WireError, WireReader, decodeBase64Strict } from './wire.js';

/** Key types whose signatures we verify (the `sk-` ones are FIDO/U2F hardware keys). */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

/** One of SSH_KEY_TYPES. */
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

/** A parsed public key. `blob` is its exact wire encoding, the identity signatures embed. */
export interface SshPublicKey {
  readonly type: SshKeyType;
  readonly blob: Buffer;
  /** `SHA256:` + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** Modulus size for RSA, curve size for ECDSA, 256 for Ed25519. */
  readonly bits: number;
  readonly key: KeyObject;
  /** FIDO application string (`ssh:` usually) for `sk-` keys, else undefined. */
  readonly application?: string;
}

/** The key is unusable; `message` names the problem for a 400 or a rejection detail. */
export class SshKeyError extends Error {
  override readonly name = 'SshKeyError';
}

/** Smallest RSA modulus we trust: 2048 bits (NIST's floor; OpenSSH still accepts 1024). */
export const RSA_MIN_BITS = 2048;
/** Largest RSA modulus OpenSSH handles (SSHBUF_MAX_BIGNUM). */
const RSA_MAX_BITS = 16384;

/** An ECDSA curve: SSH's name for it, the JWK name, coordinate bytes, and its digest. */
export interface SshCurve {
  readonly ident: 'nistp256' | 'nistp384' | 'nistp521';
  readonly crv: 'P-256' | 'P-384' | 'P-521';
  readonly size: number;
  readonly bits: number;
  /** RFC 5656 §6.2.1: the hash that goes with the curve size. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

const CURVES: Readonly<Record<SshCurve['ident'], SshCurve>> = {
  nistp256: { ident: 'nistp256', crv: 'P-256', size: 32, bits: 256, hash: 'sha256' },
  nistp384: { ident: 'nistp384', crv: 'P-384', size: 48, bits: 384, hash: 'sha384' },
  nistp521: { ident: 'nistp521', crv: 'P-521', size: 66, bits: 521, hash: 'sha512' },
};

/** The ECDSA curve of a key type, or undefined for other types. */
export function curveOf(type: SshKeyType): SshCurve | undefined {
  if (type === 'sk-ecdsa-sha2-nistp256@openssh.com') return CURVES.nistp256;
  const m = /^ecdsa-sha2-(nistp256|nistp384|nistp521)$/.exec(type);
  return m ? CURVES[m[1] as SshCurve['ident']] : undefined;
}

/** ssh-keygen's fingerprint of a key blob. */
export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const b64url = (b: Buffer): string => b.toString('base64url');

function isKnownType(type: string): type is SshKeyType {
  return (SSH_KEY_TYPES as readonly string[]).includes(type);
}

function ecKey(r: WireReader, type: SshKeyType): { key: KeyObject; bits: number } {
  const curve = curveOf(type);
  const ident = r.text('curve name');
  if (!curve || ident !== curve.ident) {
    throw new SshKeyError(`curve ${ident} does not match key type ${type}`);
  }
  const q = r.string('curve point');
  if (q.length !== 1 + 2 * curve.size || q[0] !== 0x04) {
    throw new SshKeyError('the curve point is not an uncompressed point of the right size');
  }
  const x = b64url(q.subarray(1, 1 + curve.size));
  const y = b64url(q.subarray(1 + curve.size));
  return {
    key: createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' }),
    bits: curve.bits,
  };
}

function rsaKey(r: WireReader): { key: KeyObject; bits: number } {
  const e = r.mpint('RSA exponent');
  const n = r.mpint('RSA modulus');
  const bits = n.length === 0 ? 0 : (n.length - 1) * 8 + Math.floor(Math.log2(n[0] ?? 1)) + 1;
  if (bits < RSA_MIN_BITS) {
    throw new SshKeyError(`RSA keys need at least ${RSA_MIN_BITS} bits (this one has ${bits})`);
  }
  if (bits > RSA_MAX_BITS) throw new SshKeyError(`RSA keys over ${RSA_MAX_BITS} bits are refused`);
  if (e.length === 0 || e.length > 8 || ((e[e.length - 1] ?? 0) & 1) === 0) {
    throw new SshKeyError('the RSA exponent is not a small odd number');
  }
  return {
    key: createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }),
    bits,
  };
}

function ed25519Key(r: WireReader): { key: KeyObject; bits: number } {
  const pk = r.string('Ed25519 key');
  if (pk.length !== 32) throw new SshKeyError('the Ed25519 key is not 32 bytes');
  return {
    key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' }),
    bits: 256,
  };
}

/** Parse a key's wire blob; SshKeyError for an unknown type, a bad length or a bad point. */
export function parsePublicKeyBlob(blob: Uint8Array): SshPublicKey {
  const buf = Buffer.from(blob);
  const r = new WireReader(buf);
  try {
    const type = r.text('key type');
    if (!isKnownType(type)) throw new SshKeyError(unsupportedTypeReason(type));
    const parsed =
      type === 'ssh-rsa'
        ? rsaKey(r)
        : type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com'
          ? ed25519Key(r)
          : ecKey(r, type);
    const application = type.startsWith('sk-') ? r.text('FIDO application') : undefined;
    r.done('the key');
    const base = { type, blob: buf, fingerprint: sshFingerprint(buf), ...parsed };
    return application === undefined ? base : { ...base, application };
  } catch (e) {
    if (e instanceof SshKeyError) throw e;
    if (e instanceof WireError) throw new SshKeyError(`the key blob is malformed: ${e.message}`);
    // createPublicKey refuses points off the curve and similar: the key is not a key.
    throw new SshKeyError('the key is not a valid public key of its type');
  }
}

/** Why a key type is refused, in words an operator can act on. */
export function unsupportedTypeReason(type: string): string {
  if (type.endsWith('-cert-v01@openssh.com'))
    return 'SSH certificates are not supported; give the plain public key';
  if (type === 'ssh-dss') return 'DSA keys are refused (OpenSSH removed them); use ssh-ed25519';
  return `key type ${JSON.stringify(type.slice(0, 64))} is not supported (one of ${SSH_KEY_TYPES.join(', ')})`;
}

/** A trusted key as an operator writes it: one `authorized_keys`-style line. */
export interface AuthorizedKey {
  readonly key: SshPublicKey;
  /** The text after the key (often `user@host`), '' when absent. */
  readonly comment: string;
}

/**
 * Parse `<type> <base64 blob> [comment]` (a `.pub` file or an `authorized_keys` line without
 * options). The type word must match the blob's. Options and allowed_signers principals are
 * refused rather than guessed at, so what is stored is exactly one key.
 */
export function parseAuthorizedKey(text: string): AuthorizedKey {
  const line = text.replace(/\r?\n$/, '');
  if (line.includes('\n') || line.includes('\r'))
    throw new SshKeyError('must be one line (one key)');
  const [type = '', data = '', ...rest] = line.trim().split(/[ \t]+/);
  if (type === '') throw new SshKeyError('is empty');
  if (!isKnownType(type)) {
    if (/-----BEGIN/.test(line))
      throw new SshKeyError(
        'is a PEM/armored block; give the .pub line (ssh-ed25519 AAAA… comment)',
      );
    if (/^(ssh-|ecdsa-|sk-)/.test(type)) throw new SshKeyError(unsupportedTypeReason(type));
    throw new SshKeyError(
      'must start with the key type (ssh-ed25519, ecdsa-sha2-nistp256, …); options and principals are not accepted',
    );
  }
  const blob = decodeBase64Strict(data);
  if (!blob) throw new SshKeyError('the key data after the type is not base64');
  const key = parsePublicKeyBlob(blob);
  if (key.type !== type) throw new SshKeyError(`the line says ${type} but the key is ${key.type}`);
  return { key, comment: rest.join(' ') };
}
