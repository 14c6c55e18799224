/**
 * What the remote tip still lacks (issue 15): `status` shows, for the remote tip, the required
 * number, the valid signatures with key name and fingerprint, the rejected ones with their reason
 * and how many are missing — written by the summariser after every poll that evaluated the tip,
 * kept by a poll that did not, and dropped when the tip moved.
 */
import { describe, expect, it } from 'vitest';
import type { TrustedKey } from '../../src/config/settings-schemas.js';
import { StorageKeys } from '../../src/config/stored.js';
import { statusPath } from '../../src/api/status.js';
import { silentLogger } from '../../src/logging.js';
import type { SignatureVerifier } from '../../src/pgp/types.js';
import { benchesPerTest, C2, C3, config, MOUNT, world, type Bench } from './pipeline-fakes.js';

const open = benchesPerTest();
const ALICE = 'A'.repeat(40);
const BOB = 'B'.repeat(40);

/** Note lines: base64 of "ALICE" / "BOB" verify as those keys; anything else is a bad signature. */
const verifier: SignatureVerifier = {
  prepare: async (keys) => ({
    count: keys.length,
    namesByFingerprint: new Map([
      [ALICE, ['alice']],
      [BOB, ['bob']],
    ]),
    unusable: [],
  }),
  verifyDetached: async (sig) => {
    const text = new TextDecoder().decode(
      typeof sig === 'string' ? new TextEncoder().encode(sig) : sig,
    );
    if (text === 'ALICE') return { ok: true, primaryFingerprint: ALICE, signedAt: '2024-01-01' };
    if (text === 'BOB') return { ok: true, primaryFingerprint: BOB, signedAt: '2024-01-01' };
    return { ok: false, reason: 'bad-signature', detail: 'signature does not match the commit' };
  },
};

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function status(b: Bench): Promise<Record<string, unknown>> {
  const read = statusPath.operations.read;
  if (!read) throw new Error('status has no read');
  const res = await read(
    { operation: 'read', mount: MOUNT, path: 'status', captures: {}, data: {} },
    { store: b.store, services: {} as never, logger: silentLogger(), now: () => new Date() },
  );
  return res?.data ?? {};
}

async function bench2(notes: string, tip = C2): Promise<Bench> {
  const b = await open(
    world({ remote: { branch: tip, notes: 'n'.repeat(40) }, notes: { 'notes-ref': notes } }),
    { configure: config({ required_number_of_verified_signatures_on_commit: 2 }), verifier },
  );
  for (const name of ['alice', 'bob']) {
    const key: TrustedKey = { name, public_key: `ARMORED-${name}` };
    await b.store.put(StorageKeys.trustedKey(name), key);
  }
  return b;
}

describe('status shows what the remote tip still lacks', () => {
  it('1 of 2, missing 1: the valid signer by name and fingerprint, the rejected one with its reason', async () => {
    const b = await bench2(`${b64('ALICE')}\n\n${b64('WRONG PAYLOAD')}\n`);
    await b.runtime.poll('periodic');
    expect(await status(b)).toMatchObject({
      remote_tip: C2,
      tip_signatures: '1 of 2, missing 1',
      tip_signatures_required: 2,
      tip_signatures_valid: [`alice ${ALICE}`],
      tip_signatures_rejected: ['note line 2: bad-signature (signature does not match the commit)'],
      tip_signatures_missing: 1,
    });
  });

  it('is refreshed by the next poll once the second approver signed', async () => {
    const b = await bench2(b64('ALICE'));
    await b.runtime.poll('periodic');
    expect((await status(b)).tip_signatures).toBe('1 of 2, missing 1');
    b.w.notes['notes-ref'] = `${b64('ALICE')}\n\n${b64('BOB')}`;
    b.w.remote = { ...b.w.remote, notes: 'm'.repeat(40) };
    b.advance(1000);
    await b.runtime.poll('webhook');
    expect(await status(b)).toMatchObject({
      last_poll_outcome: 'deployed',
      tip_signatures: '2 of 2, missing 0',
      tip_signatures_valid: [`alice ${ALICE}`, `bob ${BOB}`],
      tip_signatures_missing: 0,
    });
    // An up-to-date poll keeps the report of the same tip.
    b.advance(1000);
    await b.runtime.poll('periodic');
    expect(await status(b)).toMatchObject({
      last_poll_outcome: 'up-to-date',
      tip_signatures: '2 of 2, missing 0',
    });
  });

  it('says nothing about a tip that was not evaluated (the tip moved, the run failed earlier)', async () => {
    const b = await bench2(b64('ALICE'));
    await b.runtime.poll('periodic');
    b.w.remote = { branch: C3, notes: 'n'.repeat(40) };
    b.w.ancestry = new Set();
    await b.store.put(StorageKeys.lastSuccessfulCommit, { commit: C2, at: '2024-01-01' });
    b.advance(1000);
    await b.runtime.poll('periodic');
    expect(await status(b)).toMatchObject({
      remote_tip: C3,
      last_poll_code: 'NOT_A_DESCENDANT',
      tip_signatures: null,
    });
  });
});
