/**
 * SSHSIG verification with node:crypto (OpenSSH PROTOCOL.sshsig, as `ssh-keygen -Y verify` and
 * `git verify-commit` with gpg.format=ssh do it). We write this ourselves because no maintained
 * npm package parses SSHSIG: sshpk (1.18.0) reads only the inner SSH signature and knows no
 * namespace, hash algorithm or armor; the primitives are all in node:crypto.
 *
 * Order of checks: armor → blob fields → namespace `git` → hash (sha256/sha512) → key trusted
 * (byte-equal blob) → signature algorithm fits the key (`ssh-rsa` SHA-1 refused) → primitive.
 * Nothing here throws on bad input: every failure is a typed rejection.
 */
import { createHash, verify as cryptoVerify } from 'node:crypto';
import {
  dearmorSshSignature,
  parseSshSigBlob,
  sshSigSignedData,
  type SshSigBlob,
} from './armor.js';
import {
  SshKeyError,
  curveOf,
  parseAuthorizedKey,
  sshFingerprint,
  type SshPublicKey,
} from './keys.js';
import type {
  PreparedSshKeys,
  SshRejectionReason,
  SshVerifyOutcome,
  TrustedSshKey,
} from './types.js';
import { WireError, WireReader } from './wire.js';

/** The only namespace git signs in; a `file` or `email` signature must not count as approval. */
export const GIT_NAMESPACE = 'git';
const HASHES = new Set(['sha256', 'sha512']);
/** FIDO "user present" flag: OpenSSH requires it unless allowed_signers says no-touch-required. */
const SK_USER_PRESENT = 0x01;

/** Parse the stored keys once per check; a key that no longer parses is set aside, named. */
export function prepareSshKeys(keys: readonly TrustedSshKey[]): PreparedSshKeys {
  const byBlob = new Map<string, SshPublicKey>();
  const names = new Map<string, string[]>();
  const unusable: { name: string; detail: string }[] = [];
  for (const k of keys) {
    try {
      const { key } = parseAuthorizedKey(k.publicKey);
      byBlob.set(key.blob.toString('base64'), key);
      names.set(key.fingerprint, [...(names.get(key.fingerprint) ?? []), k.name]);
    } catch (e) {
      unusable.push({ name: k.name, detail: e instanceof SshKeyError ? e.message : 'unreadable' });
    }
  }
  return { count: byBlob.size, byBlob, namesByFingerprint: names, unusable };
}

class Rejection extends Error {
  constructor(
    readonly reason: SshRejectionReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Left-pad an unsigned big-endian integer to `size` bytes (IEEE P1363 / RSA signature width). */
function padTo(size: number, b: Buffer, what: string): Buffer {
  if (b.length > size)
    throw new Rejection('bad-signature', `${what} is longer than the key allows`);
  return Buffer.concat([Buffer.alloc(size - b.length), b]);
}

/** ECDSA r and s as SSH mpints → fixed-width r‖s, the form node:crypto takes as ieee-p1363. */
function ecdsaP1363(inner: Buffer, size: number): Buffer {
  const r = new WireReader(inner);
  const rs = Buffer.concat([
    padTo(size, r.mpint('ECDSA r'), 'r'),
    padTo(size, r.mpint('ECDSA s'), 's'),
  ]);
  r.done('the ECDSA signature');
  return rs;
}

/** Check the inner SSH signature of `key` over `data`; throws Rejection when it does not hold. */
function checkPrimitive(key: SshPublicKey, signature: Buffer, data: Buffer): string {
  const r = new WireReader(signature);
  const algorithm = r.text('signature algorithm');
  const sig = r.string('signature bytes');
  const sk = key.type.startsWith('sk-')
    ? { flags: r.byte('FIDO flags'), counter: r.bytes(4, 'FIDO counter') }
    : undefined;
  r.done('the inner signature');
  if (key.type === 'ssh-rsa') {
    if (algorithm === 'ssh-rsa') {
      throw new Rejection(
        'weak-algorithm',
        'ssh-rsa signatures hash with SHA-1, which is refused; sign with rsa-sha2-512 (OpenSSH default)',
      );
    }
    if (algorithm !== 'rsa-sha2-256' && algorithm !== 'rsa-sha2-512') {
      throw new Rejection(
        'unsupported-algorithm',
        `signature algorithm ${algorithm} does not fit an RSA key`,
      );
    }
    const width = Math.ceil(key.bits / 8);
    const ok = cryptoVerify(
      algorithm === 'rsa-sha2-256' ? 'sha256' : 'sha512',
      data,
      key.key,
      padTo(width, sig, 'the RSA signature'),
    );
    if (!ok) throw new Rejection('bad-signature', 'the RSA signature does not match');
    return algorithm;
  }
  if (algorithm !== key.type) {
    throw new Rejection(
      'unsupported-algorithm',
      `signature algorithm ${algorithm} does not fit a ${key.type} key`,
    );
  }
  // FIDO keys sign SHA-256(application) ‖ flags ‖ counter ‖ SHA-256(data) (OpenSSH PROTOCOL.u2f).
  const signed = sk
    ? Buffer.concat([
        createHash('sha256')
          .update(key.application ?? '')
          .digest(),
        Buffer.from([sk.flags]),
        sk.counter,
        createHash('sha256').update(data).digest(),
      ])
    : data;
  const curve = curveOf(key.type);
  const ok = curve
    ? cryptoVerify(
        curve.hash,
        signed,
        { key: key.key, dsaEncoding: 'ieee-p1363' },
        ecdsaP1363(sig, curve.size),
      )
    : sig.length === 64 && cryptoVerify(null, signed, key.key, sig);
  if (!ok) throw new Rejection('bad-signature', `the ${algorithm} signature does not match`);
  if (sk && (sk.flags & SK_USER_PRESENT) === 0) {
    throw new Rejection(
      'bad-signature',
      'the hardware key did not confirm user presence (no touch)',
    );
  }
  return algorithm;
}

function blobOf(signature: string | Uint8Array): Buffer {
  if (typeof signature !== 'string') return Buffer.from(signature);
  const blob = dearmorSshSignature(signature);
  if (!blob)
    throw new Rejection(
      'malformed',
      'not an armored SSH signature (BEGIN/END lines or base64 broken)',
    );
  return blob;
}

function checkFields(sig: SshSigBlob): void {
  if (sig.version !== 1)
    throw new Rejection('unsupported-algorithm', `SSHSIG version ${sig.version} is not supported`);
  const namespace = sig.namespace.toString('latin1');
  if (namespace !== GIT_NAMESPACE) {
    throw new Rejection(
      'wrong-namespace',
      `signed in namespace ${JSON.stringify(namespace.slice(0, 64))}, not "git"`,
    );
  }
  if (!HASHES.has(sig.hashAlgorithm)) {
    throw new Rejection(
      'unsupported-algorithm',
      `hash algorithm ${sig.hashAlgorithm.slice(0, 32)} is not sha256 or sha512`,
    );
  }
}

/**
 * Verify one SSH signature — armored text (a `gpgsig` header) or the binary blob (a note line) —
 * over `payload` with the trusted keys. The embedded key must be byte-equal to a trusted one.
 */
export function verifySshSignature(
  signature: string | Uint8Array,
  payload: Uint8Array,
  keys: PreparedSshKeys,
): SshVerifyOutcome {
  let issuer: string | undefined;
  try {
    const sig = parseSshSigBlob(blobOf(signature));
    issuer = sshFingerprint(sig.publicKey);
    checkFields(sig);
    const key = keys.byBlob.get(sig.publicKey.toString('base64'));
    if (!key) throw new Rejection('unknown-key', `key ${issuer} is not a trusted SSH key`);
    const hash = createHash(sig.hashAlgorithm).update(payload).digest();
    const data = sshSigSignedData(sig.namespace, sig.reserved, sig.hashAlgorithm, hash);
    const algorithm = checkPrimitive(key, sig.signature, data);
    return {
      ok: true,
      fingerprint: key.fingerprint,
      keyType: key.type,
      signatureAlgorithm: algorithm,
      hashAlgorithm: sig.hashAlgorithm,
    };
  } catch (e) {
    const withIssuer = issuer === undefined ? {} : { issuer };
    if (e instanceof Rejection)
      return { ok: false, reason: e.reason, detail: e.message, ...withIssuer };
    if (e instanceof WireError)
      return {
        ok: false,
        reason: 'malformed',
        detail: `SSH signature ${e.message}`,
        ...withIssuer,
      };
    return {
      ok: false,
      reason: 'malformed',
      detail: 'the SSH signature could not be read',
      ...withIssuer,
    };
  }
}
