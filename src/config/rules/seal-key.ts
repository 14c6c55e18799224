/**
 * The seal key's file format: base64 of exactly 32 random bytes (an AES-256 key), one line.
 * `flant-gitops seal-key` prints a new one; `head -c 32 /dev/urandom | base64` makes one too.
 */
import { randomBytes } from 'node:crypto';

/** Length of a seal key: 32 bytes (AES-256). */
export const SEAL_KEY_BYTES = 32;

/** The key in a seal key file's text, or the rule the text breaks (never the text itself). */
export function parseSealKey(text: string): Buffer | string {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return 'must be base64 of 32 random bytes';
  const key = Buffer.from(t, 'base64');
  if (key.length !== SEAL_KEY_BYTES) {
    return `must be base64 of ${SEAL_KEY_BYTES} bytes (it holds ${key.length})`;
  }
  return key;
}

/** A new random seal key in its file form (base64 and a newline). */
export function newSealKeyText(): string {
  return `${randomBytes(SEAL_KEY_BYTES).toString('base64')}\n`;
}
