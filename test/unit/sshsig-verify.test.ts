/**
 * The SSHSIG verifier and key parser on signatures made with node:crypto (no tools spawned):
 * every field rule, every hostile or truncated input → a typed rejection, never a throw.
 * Real ssh-keygen and git signatures are the integration table (test/integration/sshsig.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  armorSshSignature,
  buildSshSigBlob,
  dearmorSshSignature,
  isSshArmor,
  isSshSigBlob,
  parseSshSigBlob,
} from '../../src/sshsig/armor.js';
import { SshKeyError, parseAuthorizedKey, parsePublicKeyBlob } from '../../src/sshsig/keys.js';
import { prepareSshKeys, verifySshSignature } from '../../src/sshsig/verify.js';
import { sshStrings } from '../../src/sshsig/wire.js';
import { forgeKey, forgeSshSignature } from '../helpers/sshsig-forge.js';

const data = Buffer.from('0123456789abcdef0123456789abcdef01234567');
const ed = forgeKey('ed25519', 'alice@laptop');
const ec = forgeKey('ecdsa-256');
const rsa = forgeKey('rsa-2048');
const trusted = prepareSshKeys([
  { name: 'alice', publicKey: ed.publicLine },
  { name: 'erin', publicKey: ec.publicLine },
  { name: 'rob', publicKey: rsa.publicLine },
]);
const good = forgeSshSignature(ed, data);
const goodBlob = dearmorSshSignature(good) ?? Buffer.alloc(0);

/** Re-build the good signature with one field replaced. */
function withField(field: 'version' | 'namespace' | 'reserved' | 'hashAlgorithm', value: unknown) {
  const f = parseSshSigBlob(goodBlob);
  return armorSshSignature(buildSshSigBlob({ ...f, [field]: value }));
}

describe('SSHSIG verification (node:crypto-made signatures)', () => {
  it.each([
    ['ed25519', ed, {}],
    ['ecdsa-sha2-nistp256', ec, {}],
    ['rsa-sha2-512', rsa, {}],
    ['rsa-sha2-256', rsa, { rsaAlgorithm: 'rsa-sha2-256' as const }],
    ['ed25519 over sha256', ed, { hashAlgorithm: 'sha256' }],
  ])('accepts %s and names the trusted key by its SHA256 fingerprint', (_n, key, opts) => {
    const outcome = verifySshSignature(forgeSshSignature(key, data, opts), data, trusted);
    expect(outcome).toMatchObject({ ok: true, fingerprint: key.fingerprint, keyType: key.type });
  });

  it('accepts the binary blob (a note line decoded) as well as the armor', () => {
    expect(verifySshSignature(new Uint8Array(goodBlob), data, trusted).ok).toBe(true);
  });

  it.each([
    ['namespace file', withField('namespace', Buffer.from('file')), 'wrong-namespace'],
    ['namespace git with a NUL', withField('namespace', Buffer.from('git\0')), 'wrong-namespace'],
    ['hash sha1', withField('hashAlgorithm', 'sha1'), 'unsupported-algorithm'],
    ['SSHSIG version 2', withField('version', 2), 'unsupported-algorithm'],
    ['a changed reserved field', withField('reserved', Buffer.from('x')), 'bad-signature'],
    [
      'ssh-rsa (SHA-1)',
      forgeSshSignature(rsa, data, { rsaAlgorithm: 'ssh-rsa' }),
      'weak-algorithm',
    ],
    ['an untrusted key', forgeSshSignature(forgeKey('ed25519'), data), 'unknown-key'],
  ])('rejects %s as %s', (_n, signature, reason) => {
    const outcome = verifySshSignature(signature, data, trusted);
    expect(outcome).toMatchObject({ ok: false, reason });
    if (!outcome.ok && reason === 'weak-algorithm') expect(outcome.detail).toMatch(/SHA-1/);
    if (!outcome.ok) expect(outcome.issuer).toMatch(/^SHA256:/);
  });

  it('rejects a signature over other bytes as bad-signature, naming the key', () => {
    const other = Buffer.from(data);
    other[0] = 0x31;
    const outcome = verifySshSignature(good, other, trusted);
    expect(outcome).toMatchObject({ ok: false, reason: 'bad-signature', issuer: ed.fingerprint });
  });

  it('rejects an inner signature whose algorithm does not fit the key', () => {
    const f = parseSshSigBlob(goodBlob);
    const inner = sshStrings('ecdsa-sha2-nistp256', Buffer.alloc(64));
    const sig = armorSshSignature(buildSshSigBlob({ ...f, signature: inner }));
    expect(verifySshSignature(sig, data, trusted)).toMatchObject({
      ok: false,
      reason: 'unsupported-algorithm',
    });
  });

  it('requires a FIDO key to have confirmed user presence (stricter than ssh-keygen -Y verify)', () => {
    const sk = forgeKey('sk-ed25519');
    const keys = prepareSshKeys([{ name: 'carol', publicKey: sk.publicLine }]);
    expect(verifySshSignature(forgeSshSignature(sk, data), data, keys).ok).toBe(true);
    const untouched = verifySshSignature(forgeSshSignature(sk, data, { skFlags: 0 }), data, keys);
    expect(untouched).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('rejects every truncation of a good blob and armor as malformed, never throwing', () => {
    for (let n = 0; n < goodBlob.length; n++) {
      const cut = goodBlob.subarray(0, n);
      expect(verifySshSignature(new Uint8Array(cut), data, trusted).ok).toBe(false);
      const armored = n === 0 ? '' : armorSshSignature(cut);
      const outcome = verifySshSignature(armored, data, trusted);
      expect(outcome).toMatchObject({ ok: false, reason: 'malformed' });
    }
    for (let n = 0; n < good.length - 1; n += 7) {
      expect(verifySshSignature(good.slice(0, n), data, trusted).ok).toBe(false);
    }
  });

  it.each([
    ['garbage text', 'hello, I am not a signature'],
    ['a PGP armor', '-----BEGIN PGP SIGNATURE-----\n\nwnUEABYK\n-----END PGP SIGNATURE-----\n'],
    ['broken base64', good.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')],
    ['trailing bytes', armorSshSignature(Buffer.concat([goodBlob, Buffer.from([0])]))],
    ['text after the END line', `${good}extra\n`],
    ['random bytes', new Uint8Array(Buffer.from('U1NIU0lHAAAAAQ==', 'base64'))],
    [
      'a huge length prefix',
      new Uint8Array(
        Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff])]),
      ),
    ],
  ])('rejects %s as malformed', (_n, signature) => {
    expect(verifySshSignature(signature, data, trusted)).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });

  it('rejects random byte flips without throwing (a thousand mutations)', () => {
    for (let i = 0; i < 1000; i++) {
      const b = Buffer.from(goodBlob);
      const at = (i * 7919) % b.length;
      b[at] = (b[at] ?? 0) ^ (1 + (i % 255));
      const outcome = verifySshSignature(new Uint8Array(b), data, trusted);
      expect(outcome.ok).toBe(false);
    }
  });

  it('tells SSH signatures from PGP ones by their first bytes', () => {
    expect(isSshArmor(good)).toBe(true);
    expect(isSshArmor('-----BEGIN PGP SIGNATURE-----\n')).toBe(false);
    expect(isSshSigBlob(goodBlob)).toBe(true);
    // An OpenPGP packet's first byte always has bit 7 set (old 0x88/0x89, new-format 0xc2).
    for (const first of [0x88, 0x89, 0xc2])
      expect(isSshSigBlob(Buffer.from([first, 0x53]))).toBe(false);
  });
});

describe('trusted SSH keys from one authorized_keys line', () => {
  it('parses type, blob and comment and fingerprints as ssh-keygen -l does', () => {
    const parsed = parseAuthorizedKey(`${ed.publicLine}\n`);
    expect(parsed.comment).toBe('alice@laptop');
    expect(parsed.key.type).toBe('ssh-ed25519');
    expect(parsed.key.fingerprint).toBe(ed.fingerprint);
    expect(parsed.key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(parseAuthorizedKey(rsa.publicLine).key.bits).toBe(2048);
  });

  const blob = (line: string) => line.split(' ')[1] ?? '';
  it.each([
    ['an empty value', '', /is empty/],
    ['two keys', `${ed.publicLine}\n${ec.publicLine}`, /one line/],
    ['authorized_keys options', `from="10.0.0.1" ${ed.publicLine}`, /options and principals/],
    [
      'an allowed_signers principal',
      `alice@example.com ${ed.publicLine}`,
      /options and principals/,
    ],
    ['a DSA key', `ssh-dss ${blob(ed.publicLine)}`, /DSA keys are refused/],
    ['a certificate', `ssh-ed25519-cert-v01@openssh.com ${blob(ed.publicLine)}`, /certificates/],
    [
      'a type that does not match the blob',
      `ssh-rsa ${blob(ed.publicLine)}`,
      /says ssh-rsa but the key is ssh-ed25519/,
    ],
    ['bad base64', 'ssh-ed25519 AAAA$$$$', /not base64/],
    ['a private key', '-----BEGIN OPENSSH PRIVATE KEY-----', /PEM\/armored/],
    [
      'a truncated blob',
      `ssh-ed25519 ${sshStrings('ssh-ed25519', Buffer.alloc(10)).toString('base64')}`,
      /not 32 bytes/,
    ],
    [
      'a short RSA key',
      `ssh-rsa ${sshStrings('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.alloc(128, 0x7f)).toString('base64')}`,
      /at least 2048 bits \(this one has 1023\)/,
    ],
    [
      'an EC point off the curve',
      `ecdsa-sha2-nistp256 ${sshStrings('ecdsa-sha2-nistp256', 'nistp256', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])).toString('base64')}`,
      /not a valid public key/,
    ],
    [
      'a curve that does not fit the type',
      `ecdsa-sha2-nistp384 ${sshStrings('ecdsa-sha2-nistp384', 'nistp256', Buffer.alloc(65)).toString('base64')}`,
      /does not match/,
    ],
  ])('refuses %s, naming the problem', (_n, line, message) => {
    expect(() => parseAuthorizedKey(line)).toThrow(SshKeyError);
    expect(() => parseAuthorizedKey(line)).toThrow(message);
  });

  it('sets aside an unusable stored key and keeps the others', () => {
    const keys = prepareSshKeys([
      { name: 'broken', publicKey: 'ssh-ed25519 AAAA' },
      { name: 'alice', publicKey: ed.publicLine },
      { name: 'alice-2', publicKey: ed.publicLine },
    ]);
    expect(keys.count).toBe(1);
    expect(keys.unusable.map((u) => u.name)).toEqual(['broken']);
    expect(keys.namesByFingerprint.get(ed.fingerprint)).toEqual(['alice', 'alice-2']);
  });

  it('parses the key blobs of every supported type', () => {
    for (const spec of ['ed25519', 'ecdsa-256', 'rsa-2048', 'sk-ed25519', 'sk-ecdsa'] as const) {
      const k = forgeKey(spec);
      expect(parsePublicKeyBlob(k.blob).type).toBe(k.type);
    }
    expect(parsePublicKeyBlob(forgeKey('sk-ecdsa').blob).application).toBe('ssh:');
  });
});
