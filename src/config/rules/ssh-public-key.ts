/**
 * The trusted SSH public key rule: one `authorized_keys`-style line of a key type we verify.
 * Pure (node:crypto only, no I/O), so the settings schema checks a write with exactly the parser
 * the signature step uses, and stores the line in its canonical form.
 */
import { SshKeyError, parseAuthorizedKey } from '../../sshsig/keys.js';

const LINE_RULE =
  'must be one SSH public key line (`ssh-ed25519 AAAA… comment`, as in a .pub file)';

/** The broken rule, naming the problem, or undefined when the line is a usable key. */
export function sshPublicKeyRule(line: string): string | undefined {
  try {
    parseAuthorizedKey(line);
    return undefined;
  } catch (e) {
    if (e instanceof SshKeyError) return `${LINE_RULE}: ${e.message}`;
    throw e;
  }
}

/** The line as stored: `<type> <base64 blob>[ <comment>]`, whatever spacing was given. */
export function canonicalSshPublicKey(line: string): string {
  const { key, comment } = parseAuthorizedKey(line);
  return `${key.type} ${key.blob.toString('base64')}${comment === '' ? '' : ` ${comment}`}`;
}
