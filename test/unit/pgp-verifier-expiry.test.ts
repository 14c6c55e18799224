/**
 * The PGP verifier's expiry check, in-process (openpgp.js makes the key and the signature; the
 * verifier's clock is injected): a signature made while the key was valid counts until the key
 * expires, and not after — the key must be valid now, not only when it signed.
 */
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOpenPgpVerifier } from '../../src/pgp/openpgp.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const HOUR = 3600;
const payload = new TextEncoder().encode('0123456789abcdef0123456789abcdef01234567');
let publicKey: string;
let signature: Uint8Array;

const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

beforeAll(async () => {
  const { privateKey, publicKey: pub } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: 'Expiring', email: 'expiring@example.invalid' }],
    date: T0,
    keyExpirationTime: HOUR,
    format: 'object',
  });
  publicKey = pub.armor();
  const signed = await openpgp.sign({
    message: await openpgp.createMessage({ binary: payload }),
    signingKeys: privateKey,
    detached: true,
    format: 'binary',
    date: at(60),
  });
  signature = signed as Uint8Array;
});

async function verifyAt(seconds: number) {
  const verifier = createOpenPgpVerifier({ now: () => at(seconds) });
  const keys = await verifier.prepare([{ name: 'expiring', publicKey }]);
  return verifier.verifyDetached(signature, payload, keys);
}

describe('PGP verifier: key expiry', () => {
  it('counts a signature while the key is valid', async () => {
    expect(await verifyAt(120)).toMatchObject({ ok: true });
  });

  it('refuses the same signature once the key has expired, naming when', async () => {
    const outcome = await verifyAt(2 * HOUR);
    expect(outcome).toMatchObject({ ok: false, reason: 'expired-key' });
    expect(outcome.ok ? '' : outcome.detail).toContain(
      `the key expired at ${at(HOUR).toISOString()}`,
    );
  });
});
