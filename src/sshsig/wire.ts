/**
 * A bounded reader of the SSH wire encoding (RFC 4251 §5: uint32, string, mpint) over bytes that
 * come from outside — signatures in commits and notes, keys typed by operators. Every read checks
 * its length first, so truncated or hostile input ends as a WireError that callers turn into a
 * typed rejection, never as an out-of-range read or an exception that becomes a 5xx.
 */

/** The input ended early, or a field broke the encoding; `message` says which field. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Reads fields front to back from one buffer; `done()` insists nothing is left over. */
export class WireReader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.buf.length - this.at;
  }

  /** `n` raw bytes (a view, not a copy). */
  bytes(n: number, what: string): Buffer {
    if (n < 0 || this.remaining < n) throw new WireError(`${what} is truncated`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** One byte. */
  byte(what: string): number {
    return this.bytes(1, what)[0] ?? 0;
  }

  /** A big-endian uint32. */
  uint32(what: string): number {
    return this.bytes(4, what).readUInt32BE(0);
  }

  /** A length-prefixed byte string. */
  string(what: string): Buffer {
    const n = this.uint32(`length of ${what}`);
    return this.bytes(n, what);
  }

  /** A length-prefixed string that must be printable ASCII (names, algorithm ids). */
  text(what: string): string {
    const b = this.string(what);
    if (!b.every((c) => c >= 0x20 && c < 0x7f)) throw new WireError(`${what} is not ASCII text`);
    return b.toString('latin1');
  }

  /**
   * A non-negative mpint as its unsigned big-endian magnitude (leading zero bytes removed).
   * Negative values and non-minimal encodings are refused, as OpenSSH's sshbuf_get_bignum2 does.
   */
  mpint(what: string): Buffer {
    const b = this.string(what);
    if (b.length === 0) return b;
    if ((b[0] ?? 0) & 0x80) throw new WireError(`${what} is negative`);
    if (b[0] === 0 && (b.length === 1 || !((b[1] ?? 0) & 0x80))) {
      throw new WireError(`${what} is not minimally encoded`);
    }
    return b[0] === 0 ? b.subarray(1) : b;
  }

  /** Fail when bytes are left after the last field (a blob must be exactly its fields). */
  done(what: string): void {
    if (this.remaining !== 0) throw new WireError(`${what} has ${this.remaining} trailing byte(s)`);
  }
}

/** Encode SSH strings (uint32 length + bytes), concatenated — for building signed data. */
export function sshStrings(...parts: (Buffer | string)[]): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length, 0);
    out.push(len, b);
  }
  return Buffer.concat(out);
}

/** Strict base64 (standard alphabet, correct padding); undefined when `text` is not that. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const out = Buffer.from(text, 'base64');
  // Re-encoding catches non-zero padding bits, which Buffer.from silently drops.
  return out.toString('base64') === text ? out : undefined;
}
