/**
 * `configure/trusted_ssh_public_key[/<name>]` through the real HTTP app: a good line is stored
 * and read back with its type, SHA256 fingerprint and comment; anything else is a 400 naming
 * `public_key` and the broken rule, with the store unchanged.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { StorageKeys, mountScope } from '../../src/config/stored.js';
import { sshStrings } from '../../src/sshsig/wire.js';
import { TEST_ROOT_TOKEN, makeTestApp, type TestApp } from '../helpers/api-app.js';
import { forgeKey } from '../helpers/sshsig-forge.js';

const H = { 'x-vault-token': TEST_ROOT_TOKEN };
const BASE = '/v1/flant_gitops/configure/trusted_ssh_public_key';
const bob = forgeKey('ed25519', 'bob@laptop');
const rsa = forgeKey('rsa-2048', 'rob');
const blob = (line: string): string => line.split(' ')[1] ?? '';

let t: TestApp;
beforeEach(async () => {
  t = makeTestApp();
  const r = await t.app.inject({
    method: 'PUT',
    url: `${BASE}/bob`,
    headers: H,
    payload: { public_key: `${bob.publicLine}\n` },
  });
  expect(r.statusCode, r.body).toBe(204);
});

const put = (url: string, payload: unknown) =>
  t.app.inject({ method: 'PUT', url, headers: H, payload: JSON.stringify(payload) });

describe('trusted SSH public keys', () => {
  it('reads a key back with type, size, SHA256 fingerprint and comment', async () => {
    const r = await t.app.inject({ method: 'GET', url: `${BASE}/bob`, headers: H });
    expect(r.json()).toMatchObject({
      data: {
        name: 'bob',
        public_key: bob.publicLine,
        key_type: 'ssh-ed25519',
        bits: 256,
        fingerprint: bob.fingerprint,
        comment: 'bob@laptop',
      },
    });
    const stored = await t.store.get(
      `${mountScope('flant_gitops')}${StorageKeys.trustedSshKey('bob')}`,
    );
    expect(stored?.value).toEqual({ name: 'bob', public_key: bob.publicLine });
  });

  it('adds by name on the collection, lists, reads names, and deletes', async () => {
    expect((await put(BASE, { name: 'rob', public_key: rsa.publicLine })).statusCode).toBe(204);
    const list = await t.app.inject({ method: 'GET', url: `${BASE}?list=true`, headers: H });
    expect(list.json()).toMatchObject({ data: { keys: ['bob', 'rob'] } });
    const read = await t.app.inject({ method: 'GET', url: BASE, headers: H });
    expect(read.json()).toMatchObject({ data: { names: ['bob', 'rob'] } });
    const item = await t.app.inject({ method: 'GET', url: `${BASE}/rob`, headers: H });
    expect(item.json()).toMatchObject({
      data: { key_type: 'ssh-rsa', bits: 2048, comment: 'rob' },
    });
    await t.app.inject({ method: 'DELETE', url: `${BASE}/rob`, headers: H });
    await t.app.inject({ method: 'DELETE', url: `${BASE}/bob`, headers: H });
    expect((await t.app.inject({ method: 'GET', url: `${BASE}/bob`, headers: H })).statusCode).toBe(
      404,
    );
    expect(
      (await t.app.inject({ method: 'GET', url: `${BASE}?list=true`, headers: H })).statusCode,
    ).toBe(404);
  });

  it.each([
    ['not a key', { public_key: 'hello' }, 'public_key: must be one SSH public key line'],
    [
      'a PGP key',
      {
        public_key:
          '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----',
      },
      'public_key: must be one SSH public key line (`ssh-ed25519 AAAA… comment`, as in a .pub file): must be one line',
    ],
    ['two keys', { public_key: `${bob.publicLine}\n${rsa.publicLine}` }, 'one line'],
    ['a DSA key', { public_key: `ssh-dss ${blob(bob.publicLine)}` }, 'DSA keys are refused'],
    [
      'a certificate',
      { public_key: `ssh-ed25519-cert-v01@openssh.com ${blob(bob.publicLine)}` },
      'certificates are not supported',
    ],
    [
      'a 1024-bit RSA key',
      {
        public_key: `ssh-rsa ${sshStrings('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.concat([Buffer.from([0]), Buffer.alloc(128, 0xff)])).toString('base64')}`,
      },
      'at least 2048 bits (this one has 1024)',
    ],
    [
      'a truncated blob',
      { public_key: `ssh-ed25519 ${blob(bob.publicLine).slice(0, 40)}` },
      'public_key: must be one SSH public key line',
    ],
    [
      'authorized_keys options',
      { public_key: `restrict ${bob.publicLine}` },
      'options and principals are not accepted',
    ],
    ['an empty key', { public_key: '' }, 'public_key: must not be empty'],
    ['no key', {}, 'public_key: is required'],
    ['a number', { public_key: 7 }, 'public_key: must be a string'],
    ['an unknown field', { public_key: bob.publicLine, key: 'x' }, 'key'],
    [
      'another name in the body',
      { name: 'eve', public_key: bob.publicLine },
      'name: must equal the name in the path',
    ],
  ])('refuses %s with a 400 naming the rule, storing nothing', async (_n, body, message) => {
    const before = await t.snapshot();
    const r = await put(`${BASE}/bob`, body);
    expect(r.statusCode).toBe(400);
    const errors = (r.json() as { errors: string[] }).errors;
    expect(errors.join('\n')).toContain(message);
    expect(await t.snapshot()).toBe(before);
  });

  it('refuses a bad name on the collection path', async () => {
    const r = await put(BASE, { name: 'a b', public_key: bob.publicLine });
    expect(r.statusCode).toBe(400);
    expect((r.json() as { errors: string[] }).errors.join()).toContain('name: must match');
  });
});
