/**
 * SSHSIG signatures made with node:crypto, for the rows OpenSSH no longer produces or that need
 * hardware: `ssh-rsa` (SHA-1) and `rsa-sha2-256` signatures, and FIDO (`sk-`) keys. Everything
 * else is built exactly as PROTOCOL.sshsig says, so `ssh-keygen -Y verify` accepts what this
 * makes (the tests assert it) — a row "rejected" by us is rejected for the reason under test only.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { armorSshSignature, buildSshSigBlob, sshSigSignedData } from '../../src/sshsig/armor.js';
import { sshFingerprint } from '../../src/sshsig/keys.js';
import { sshStrings } from '../../src/sshsig/wire.js';

/** Key kinds made here. */
export type ForgedKeySpec = 'ed25519' | 'ecdsa-256' | 'rsa-2048' | 'sk-ed25519' | 'sk-ecdsa';

/** A Node key pair with its SSH public key blob and `.pub` line. */
export interface ForgedKey {
  readonly spec: ForgedKeySpec;
  readonly type: string;
  readonly privateKey: KeyObject;
  readonly blob: Buffer;
  readonly publicLine: string;
  readonly fingerprint: string;
}

const b = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

/** SSH mpint of an unsigned big-endian magnitude. */
function mpint(mag: Buffer): Buffer {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  const m = mag.subarray(i);
  return sshStrings((m[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

const APPLICATION = 'ssh:';

/** Make a key pair of `spec` with node:crypto. */
export function forgeKey(spec: ForgedKeySpec, comment = `${spec}@forged.test`): ForgedKey {
  let privateKey: KeyObject;
  let type: string;
  let blob: Buffer;
  if (spec === 'ed25519' || spec === 'sk-ed25519') {
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    const pk = b(pair.publicKey.export({ format: 'jwk' }).x);
    type = spec === 'ed25519' ? 'ssh-ed25519' : 'sk-ssh-ed25519@openssh.com';
    blob = spec === 'ed25519' ? sshStrings(type, pk) : sshStrings(type, pk, APPLICATION);
  } else if (spec === 'ecdsa-256' || spec === 'sk-ecdsa') {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const q = Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]);
    type = spec === 'ecdsa-256' ? 'ecdsa-sha2-nistp256' : 'sk-ecdsa-sha2-nistp256@openssh.com';
    blob =
      spec === 'ecdsa-256'
        ? sshStrings(type, 'nistp256', q)
        : sshStrings(type, 'nistp256', q, APPLICATION);
  } else {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    type = 'ssh-rsa';
    blob = Buffer.concat([sshStrings(type), mpint(b(jwk.e)), mpint(b(jwk.n))]);
  }
  const publicLine = `${type} ${blob.toString('base64')} ${comment}`;
  return { spec, type, privateKey, blob, publicLine, fingerprint: sshFingerprint(blob) };
}

/** How to make one signature; defaults: namespace git, sha512, the key's usual algorithm. */
export interface ForgeOptions {
  readonly namespace?: string;
  readonly hashAlgorithm?: string;
  /** For RSA keys: `ssh-rsa` (SHA-1), `rsa-sha2-256` or `rsa-sha2-512` (default). */
  readonly rsaAlgorithm?: 'ssh-rsa' | 'rsa-sha2-256' | 'rsa-sha2-512';
  /** FIDO flags byte (default 0x01: user present). */
  readonly skFlags?: number;
}

function ecdsaInner(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  return Buffer.concat([mpint(p1363.subarray(0, half)), mpint(p1363.subarray(half))]);
}

/** The inner SSH signature of `key` over `data`. */
function innerSignature(key: ForgedKey, data: Buffer, opts: ForgeOptions): Buffer {
  if (key.spec === 'rsa-2048') {
    const alg = opts.rsaAlgorithm ?? 'rsa-sha2-512';
    const hash = alg === 'ssh-rsa' ? 'sha1' : alg === 'rsa-sha2-256' ? 'sha256' : 'sha512';
    return sshStrings(alg, sign(hash, data, key.privateKey));
  }
  if (key.spec === 'ed25519') return sshStrings(key.type, sign(null, data, key.privateKey));
  if (key.spec === 'ecdsa-256') {
    const p1363 = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return sshStrings(key.type, ecdsaInner(p1363));
  }
  const flags = opts.skFlags ?? 0x01;
  const counter = Buffer.from([0, 0, 0, 7]);
  const signed = Buffer.concat([
    createHash('sha256').update(APPLICATION).digest(),
    Buffer.from([flags]),
    counter,
    createHash('sha256').update(data).digest(),
  ]);
  const sig =
    key.spec === 'sk-ed25519'
      ? sign(null, signed, key.privateKey)
      : ecdsaInner(sign('sha256', signed, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }));
  return Buffer.concat([sshStrings(key.type, sig), Buffer.from([flags]), counter]);
}

/** An armored SSHSIG signature of `message` by `key`. */
export function forgeSshSignature(
  key: ForgedKey,
  message: Uint8Array | string,
  opts: ForgeOptions = {},
): string {
  const namespace = opts.namespace ?? 'git';
  const hashAlgorithm = opts.hashAlgorithm ?? 'sha512';
  const hash = createHash(hashAlgorithm === 'sha256' ? 'sha256' : 'sha512')
    .update(message)
    .digest();
  const data = sshSigSignedData(namespace, '', hashAlgorithm, hash);
  const blob = buildSshSigBlob({
    publicKey: key.blob,
    namespace: Buffer.from(namespace),
    reserved: Buffer.alloc(0),
    hashAlgorithm,
    signature: innerSignature(key, data, opts),
  });
  return armorSshSignature(blob);
}
