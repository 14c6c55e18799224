/**
 * Where a commit's signatures come from, as pure functions of bytes and text (no git calls):
 * the commit's own `gpgsig` header, split off exactly as `git verify-commit` does, and the lines
 * of the signature notes written by werf's git-signatures tool.
 *
 * Each signature is PGP or SSH, told apart by its first bytes and nothing else:
 * - `gpgsig`: git writes an SSH signature as `-----BEGIN SSH SIGNATURE-----` armor, a PGP one as
 *   `-----BEGIN PGP SIGNATURE-----` (git's own rule in gpg-interface.c).
 * - note lines: werf writes the base64 of a binary OpenPGP signature, whose first byte always has
 *   bit 7 set (RFC 4880 §4.2). Our SSH line is the base64 of the binary SSHSIG blob — exactly the
 *   armor body of `ssh-keygen -Y sign -n git` over the 40-hex commit id (no newline), joined into
 *   one line — which starts with the magic `SSHSIG` (0x53…, bit 7 clear; the line starts
 *   `U1NIU0lH`). A line is therefore SSH exactly when its bytes start with `SSHSIG`.
 */
import { NOTE_MAX_BYTES, NOTE_MAX_LINES } from '../config/limits.js';
import { isSshArmor, isSshSigBlob } from '../sshsig/armor.js';

/** The two kinds of signature that count toward the quorum. */
export type SignatureKind = 'pgp' | 'ssh';

/** The kind of an armored `gpgsig` signature. */
export function gpgsigKind(signature: string): SignatureKind {
  return isSshArmor(signature) ? 'ssh' : 'pgp';
}

/** A raw commit split into the armored gpgsig signature (if any) and the bytes it signs. */
export interface SignedCommitParts {
  /** The armored signature from the `gpgsig` header, continuation spaces removed. */
  readonly signature: string | undefined;
  /** The raw commit without signature headers, byte for byte what git hands to gpg. */
  readonly payload: Uint8Array;
}

const NL = 0x0a;
const SPACE = 0x20;
/** The header git reads the signature from in a SHA-1 repository. */
const GPGSIG = Buffer.from('gpgsig ');
/** Other signature headers git removes from the payload as well (never verified here). */
const OTHER_SIGNATURE_HEADERS = [Buffer.from('gpgsig-sha256 ')];

function startsWith(buf: Buffer, at: number, prefix: Buffer): boolean {
  return (
    buf.length - at >= prefix.length &&
    buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0
  );
}

/**
 * Split `raw` (exactly `git cat-file commit <id>`) the way git's parse_buffer_signed_by_header
 * does: in the header block, a `gpgsig ` line and its space-indented continuation lines are the
 * signature; `gpgsig-sha256 ` blocks are dropped from the payload too; everything from the first
 * empty line on (the message, even if it mentions "gpgsig") is payload unchanged.
 */
export function splitSignedCommit(raw: Uint8Array): SignedCommitParts {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const payload: Buffer[] = [];
  const signature: Buffer[] = [];
  let inSignature: 'ours' | 'other' | undefined;
  let line = 0;
  while (line < buf.length) {
    const nl = buf.indexOf(NL, line);
    let next = nl === -1 ? buf.length : nl + 1;
    if (inSignature && buf[line] === SPACE) {
      if (inSignature === 'ours') signature.push(buf.subarray(line + 1, next));
    } else if (startsWith(buf, line, GPGSIG)) {
      inSignature = 'ours';
      signature.push(buf.subarray(line + GPGSIG.length, next));
    } else if (OTHER_SIGNATURE_HEADERS.some((h) => startsWith(buf, line, h))) {
      inSignature = 'other';
    } else {
      inSignature = undefined;
      if (buf[line] === NL) next = buf.length; // the blank line: the rest is the message
      payload.push(buf.subarray(line, next));
    }
    line = next;
  }
  return {
    signature: signature.length > 0 ? Buffer.concat(signature).toString('utf8') : undefined,
    payload: new Uint8Array(Buffer.concat(payload)),
  };
}

/** One signature line of the notes, decoded. */
export interface NoteSignature {
  /** 1-based position among the distinct lines, for messages. */
  readonly index: number;
  readonly kind: SignatureKind;
  readonly bytes: Uint8Array;
}

/** A note line that is not a signature at all, or a note or lines left unread (bounds). */
export interface MalformedNoteLine {
  /** The line's 1-based position; absent for a whole note or for lines past the bound. */
  readonly index?: number;
  readonly detail: string;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A note that was too large to read (the git adapter measured it and stopped). */
export interface UnreadNote {
  readonly oversizedBytes: number;
}

/**
 * The signature lines of a commit's notes. Each note (from refs/notes/signatures, from the
 * latest-signature tag's notes commit, or absent) holds one base64 signature per line; blank
 * lines (git separates appended notes with one) are skipped, and a line seen in two notes counts
 * once. A line that is not base64 is reported, never thrown. Each line carries its kind.
 *
 * Bounded (src/config/limits.ts): a note over NOTE_MAX_BYTES arrives unread and is reported as
 * one entry; at most NOTE_MAX_LINES distinct lines are examined, and one entry says how many
 * more were left out — so a pusher's 30 MB note costs a line in the report, not megabytes.
 */
export function noteSignatureLines(notes: readonly (string | UnreadNote | undefined)[]): {
  signatures: NoteSignature[];
  malformed: MalformedNoteLine[];
} {
  const seen = new Set<string>();
  const signatures: NoteSignature[] = [];
  const malformed: MalformedNoteLine[] = [];
  let leftOut = 0;
  for (const note of notes) {
    if (note === undefined) continue;
    if (typeof note !== 'string') {
      malformed.push({
        detail: `a note of ${note.oversizedBytes} bytes is over the ${NOTE_MAX_BYTES}-byte limit and was not read`,
      });
      continue;
    }
    for (const rawLine of note.split('\n')) {
      const text = rawLine.trim();
      if (text === '' || seen.has(text)) continue;
      if (seen.size >= NOTE_MAX_LINES) {
        leftOut++;
        continue;
      }
      seen.add(text);
      const index = seen.size;
      if (!BASE64.test(text) || text.length % 4 !== 0) {
        malformed.push({ index, detail: `note line ${index} is not base64` });
        continue;
      }
      const bytes = new Uint8Array(Buffer.from(text, 'base64'));
      signatures.push({ index, kind: isSshSigBlob(bytes) ? 'ssh' : 'pgp', bytes });
    }
  }
  if (leftOut > 0) {
    malformed.push({
      detail: `${leftOut} more note line(s) left out: at most ${NOTE_MAX_LINES} are read`,
    });
  }
  return { signatures, malformed };
}
