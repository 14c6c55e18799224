/**
 * The SSHSIG container (OpenSSH PROTOCOL.sshsig): the armor `ssh-keygen -Y sign` writes and git
 * stores in a commit's `gpgsig` header, and the binary blob inside it. Recognising either form
 * from its first bytes is what lets one `gpgsig` header or one note line hold PGP or SSH without
 * ambiguity (see signature-sources.ts).
 */
import { WireError, WireReader, decodeBase64Strict, sshStrings } from './wire.js';

/** The first line of an armored SSH signature. */
export const SSH_ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const SSH_ARMOR_END = '-----END SSH SIGNATURE-----';
/** The six bytes every SSHSIG blob (and every signed-data block) starts with. */
export const SSHSIG_MAGIC = Buffer.from('SSHSIG', 'latin1');

/** True when `text` is meant as an armored SSH signature (it may still be broken inside). */
export function isSshArmor(text: string): boolean {
  return text.trimStart().startsWith(SSH_ARMOR_BEGIN);
}

/**
 * True when `bytes` start with the SSHSIG magic. A binary OpenPGP packet can never start so:
 * its first byte has bit 7 set (RFC 4880 §4.2) and 'S' (0x53) has not.
 */
export function isSshSigBlob(bytes: Uint8Array): boolean {
  return bytes.length >= SSHSIG_MAGIC.length && SSHSIG_MAGIC.equals(bytes.subarray(0, 6));
}

/** The blob inside the armor, or undefined when the armor or its base64 is broken. */
export function dearmorSshSignature(text: string): Buffer | undefined {
  const lines = text.replace(/\r\n/g, '\n').trim().split('\n');
  if (lines[0]?.trim() !== SSH_ARMOR_BEGIN) return undefined;
  const end = lines.findIndex((l) => l.trim() === SSH_ARMOR_END);
  if (end < 2 || end !== lines.length - 1) return undefined;
  return decodeBase64Strict(
    lines
      .slice(1, end)
      .map((l) => l.trim())
      .join(''),
  );
}

/** Armor a blob as ssh-keygen does (70 base64 characters per line). */
export function armorSshSignature(blob: Uint8Array): string {
  const b64 = Buffer.from(blob).toString('base64');
  const body = b64.match(/.{1,70}/g) ?? [];
  return `${SSH_ARMOR_BEGIN}\n${body.join('\n')}\n${SSH_ARMOR_END}\n`;
}

/** The fields of an SSHSIG blob, undecoded beyond the wire level. */
export interface SshSigBlob {
  readonly version: number;
  readonly publicKey: Buffer;
  readonly namespace: Buffer;
  readonly reserved: Buffer;
  readonly hashAlgorithm: string;
  /** The inner SSH signature (string algorithm, string bytes[, sk flags and counter]). */
  readonly signature: Buffer;
}

/** Split a blob into its fields; throws WireError when it is truncated or has extra bytes. */
export function parseSshSigBlob(blob: Buffer): SshSigBlob {
  const r = new WireReader(blob);
  if (!SSHSIG_MAGIC.equals(r.bytes(SSHSIG_MAGIC.length, 'magic'))) {
    throw new WireError('does not start with the SSHSIG magic');
  }
  const parsed = {
    version: r.uint32('version'),
    publicKey: r.string('public key'),
    namespace: r.string('namespace'),
    reserved: r.string('reserved'),
    hashAlgorithm: r.text('hash algorithm'),
    signature: r.string('signature'),
  };
  r.done('the signature blob');
  return parsed;
}

/**
 * The bytes the inner signature covers (PROTOCOL.sshsig "Signed Data"): the magic, namespace,
 * reserved, hash algorithm and the hash of the message — never the message itself.
 */
export function sshSigSignedData(
  namespace: Buffer | string,
  reserved: Buffer | string,
  hashAlgorithm: string,
  messageHash: Buffer,
): Buffer {
  return Buffer.concat([SSHSIG_MAGIC, sshStrings(namespace, reserved, hashAlgorithm, messageHash)]);
}

/** Build a blob from its fields (used to write SSHSIG in tests and tools). */
export function buildSshSigBlob(
  fields: Omit<SshSigBlob, 'version'> & { version?: number },
): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(fields.version ?? 1, 0);
  return Buffer.concat([
    SSHSIG_MAGIC,
    version,
    sshStrings(
      fields.publicKey,
      fields.namespace,
      fields.reserved,
      fields.hashAlgorithm,
      fields.signature,
    ),
  ]);
}
