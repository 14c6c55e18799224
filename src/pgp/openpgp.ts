/**
 * The PGP adapter over openpgp.js: a KeyInspector for API key writes and a SignatureVerifier for
 * detached signatures (git gpgsig and signature notes). Verification is pure — bytes and prepared
 * keys in, the signer's primary fingerprint or a typed rejection out — and keys are parsed once
 * per check in `prepare()`.
 *
 * Acceptance follows `git verify-commit` (GnuPG): a signature counts only when its digest matches,
 * its (sub)key was valid when it signed, and the key is neither revoked nor expired now.
 */
// openpgp.js (~8 MiB resident) is loaded on the first check or key write, not at start-up: an
// idle service never needs it. Only types are imported statically.
import type { PublicKey, Signature, SignaturePacket, Subkey } from 'openpgp';
import { AppError } from '../errors.js';
import {
  assertCanSign,
  describeKey,
  fingerprintOf,
  primaryExpiry,
  readOnePublicKey,
  type OpenPgp,
} from './openpgp-keys.js';
import type {
  KeyInspector,
  PreparedKeys,
  RejectionReason,
  SignatureVerifier,
  TrustedKey,
  VerifyOutcome,
} from './types.js';

/** Creates the inspector the API uses to validate and show a trusted key on write. */
export function createOpenPgpKeyInspector(): KeyInspector {
  let lib: Promise<OpenPgp> | undefined;
  return {
    async inspect(armored) {
      const key = await readOnePublicKey(await (lib ??= import('openpgp')), armored);
      await assertCanSign(key);
      return describeKey(key);
    },
  };
}

/** What prepare() keeps for one check, hidden behind the opaque PreparedKeys. */
interface KeyIndex {
  /** Primary keys by the 16-hex key id of each of their (sub)keys. */
  readonly byKeyId: ReadonlyMap<string, readonly PublicKey[]>;
}

/** Options of the verifier; `now` is injectable so tests of expiry need no clock tricks. */
export interface OpenPgpVerifierOptions {
  readonly now?: () => Date;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function reject(reason: RejectionReason, detail: string, issuer?: string): VerifyOutcome {
  return issuer === undefined
    ? { ok: false, reason, detail }
    : { ok: false, reason, detail, issuer };
}

async function parseSignature(
  { readSignature }: OpenPgp,
  signature: string | Uint8Array,
): Promise<Signature> {
  return typeof signature === 'string'
    ? readSignature({ armoredSignature: signature })
    : readSignature({ binarySignature: signature });
}

function issuerOf(packet: SignaturePacket): string {
  const fpr = packet.issuerFingerprint;
  return fpr && fpr.length > 0
    ? Buffer.from(fpr).toString('hex').toUpperCase()
    : packet.issuerKeyID.toHex().toUpperCase();
}

/** The earlier of the primary's and (for a subkey) the subkey's expiry; null = never. */
async function expiryOf(primary: PublicKey, signing: PublicKey | Subkey): Promise<Date | null> {
  const own = await primaryExpiry(primary);
  if (signing === primary) return own;
  const sub = await (signing as Subkey).getExpirationTime().catch(() => null);
  const subDate = sub instanceof Date ? sub : null;
  if (!own) return subDate;
  if (!subDate) return own;
  return own < subDate ? own : subDate;
}

async function revokedNow(primary: PublicKey, signing: PublicKey | Subkey, now: Date) {
  if (await primary.isRevoked(undefined, undefined, now)) return 'the key is revoked';
  if (signing !== primary) {
    const error = await (signing as Subkey).verify(now).then(
      () => undefined,
      (e: unknown) => messageOf(e),
    );
    if (error && /revoked/i.test(error))
      return `its signing subkey ${fingerprintOf(signing)} is revoked`;
  }
  return undefined;
}

/** Map an openpgp.js verification error (after our own checks) to a reason. */
function classify(error: string): RejectionReason {
  if (/revoked/i.test(error)) return 'revoked-key';
  if (/signature is expired/i.test(error)) return 'bad-signature';
  if (/expired|newer than the signature/i.test(error)) return 'outside-key-validity';
  return 'bad-signature';
}

/** Verify one signature packet against one candidate key. */
async function verifyWithKey(
  { createMessage, verify }: OpenPgp,
  signature: Signature,
  packet: SignaturePacket,
  created: Date,
  primary: PublicKey,
  payload: Uint8Array,
  now: Date,
): Promise<VerifyOutcome> {
  const issuer = issuerOf(packet);
  const fpr = fingerprintOf(primary);
  const [signing] = primary.getKeys(packet.issuerKeyID);
  if (!signing) return reject('unknown-key', `no trusted key has key id ${issuer}`, issuer);
  const revoked = await revokedNow(primary, signing, now);
  if (revoked) return reject('revoked-key', `signed by ${fpr}, but ${revoked}`, issuer);
  const signedAt = created.toISOString();
  if (created < signing.getCreationTime()) {
    const born = signing.getCreationTime().toISOString();
    return reject(
      'outside-key-validity',
      `signed at ${signedAt}, before key ${fpr} was created (${born})`,
      issuer,
    );
  }
  const expires = await expiryOf(primary, signing);
  if (expires && created >= expires) {
    const when = expires.toISOString();
    return reject(
      'outside-key-validity',
      `signed at ${signedAt}, after key ${fpr} expired (${when})`,
      issuer,
    );
  }
  const message = await createMessage({ binary: payload });
  const result = await verify({ message, signature, verificationKeys: [primary], date: now });
  const [outcome] = result.signatures;
  const error = outcome
    ? await outcome.verified.then(
        () => undefined,
        (e: unknown) => messageOf(e),
      )
    : 'no signature to check';
  if (error !== undefined) return reject(classify(error), `key ${fpr}: ${error}`, issuer);
  if (expires && expires <= now) {
    return reject(
      'expired-key',
      `signed by ${fpr} at ${signedAt}, but the key expired at ${expires.toISOString()}`,
      issuer,
    );
  }
  return { ok: true, primaryFingerprint: fpr, signedAt };
}

/**
 * Creates the detached-signature verifier. Prepared keys are tied to the verifier that made them
 * (kept in a WeakMap owned by this instance, not in module state).
 */
export function createOpenPgpVerifier(opts: OpenPgpVerifierOptions = {}): SignatureVerifier {
  const indexes = new WeakMap<PreparedKeys, KeyIndex>();
  const clock = opts.now ?? (() => new Date());
  // The library, imported on the first call and then held by this verifier.
  let lib: Promise<OpenPgp> | undefined;
  const openpgp = (): Promise<OpenPgp> => (lib ??= import('openpgp'));

  return {
    async prepare(keys: readonly TrustedKey[]) {
      const byFpr = new Map<string, { key: PublicKey; names: string[] }>();
      const unusable: { name: string; detail: string }[] = [];
      for (const trusted of keys) {
        try {
          const key = await readOnePublicKey(await openpgp(), trusted.publicKey);
          const fpr = fingerprintOf(key);
          const seen = byFpr.get(fpr);
          if (seen) {
            // The same key stored twice counts once; merging keeps a revocation from either copy.
            seen.key = await seen.key.update(key);
            seen.names.push(trusted.name);
          } else {
            byFpr.set(fpr, { key, names: [trusted.name] });
          }
        } catch (e) {
          unusable.push({ name: trusted.name, detail: messageOf(e) });
        }
      }
      const byKeyId = new Map<string, PublicKey[]>();
      for (const { key } of byFpr.values()) {
        for (const part of key.getKeys()) {
          const id = part.getKeyID().toHex();
          byKeyId.set(id, [...(byKeyId.get(id) ?? []), key]);
        }
      }
      const prepared: PreparedKeys = {
        count: byFpr.size,
        namesByFingerprint: new Map([...byFpr].map(([fpr, v]) => [fpr, [...v.names]])),
        unusable,
      };
      indexes.set(prepared, { byKeyId });
      return prepared;
    },

    async verifyDetached(signature, payload, keys) {
      const index = indexes.get(keys);
      if (!index) {
        throw new AppError('INTERNAL', 'keys were not prepared by this verifier');
      }
      let parsed: Signature;
      try {
        parsed = await parseSignature(await openpgp(), signature);
      } catch (e) {
        return reject('malformed', `not an OpenPGP signature: ${messageOf(e)}`);
      }
      const pgp = await openpgp();
      const { enums } = pgp;
      const packets = parsed.packets.filterByTag(enums.packet.signature);
      const [packet] = packets;
      if (!packet || packets.length !== 1) {
        return reject('malformed', `holds ${packets.length} signatures; expected exactly one`);
      }
      const issuer = issuerOf(packet);
      if (
        packet.signatureType !== enums.signature.binary &&
        packet.signatureType !== enums.signature.text
      ) {
        return reject(
          'malformed',
          `is not a signature over data (type ${String(packet.signatureType)})`,
          issuer,
        );
      }
      if (!packet.created) return reject('malformed', 'has no creation time', issuer);
      const candidates = index.byKeyId.get(packet.issuerKeyID.toHex()) ?? [];
      if (candidates.length === 0) {
        return reject('unknown-key', `issuer ${issuer} is not a trusted key`, issuer);
      }
      let first: VerifyOutcome | undefined;
      for (const primary of candidates) {
        const outcome = await verifyWithKey(
          pgp,
          parsed,
          packet,
          packet.created,
          primary,
          payload,
          clock(),
        );
        if (outcome.ok) return outcome;
        first ??= outcome;
      }
      return first ?? reject('unknown-key', `issuer ${issuer} is not a trusted key`, issuer);
    },
  };
}
