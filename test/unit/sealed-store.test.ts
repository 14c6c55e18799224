/**
 * Secrets sealed at rest in the file store: the secret settings are AES-256-GCM on disk (no
 * value readable in any file), read back with the key, refused with a wrong key or without one,
 * sealed at start when they were written in clear, and copied out in clear by copy-store.
 */
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSecretStoreKey } from '../../src/config/mount-settings.js';
import { newSealKeyText, parseSealKey } from '../../src/config/rules/seal-key.js';
import { copyStore } from '../../src/storage/copy.js';
import { openFileStore } from '../../src/storage/file-store.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { openDataDirStore } from '../../src/storage/open.js';
import { SEAL_CHECK_KEY } from '../../src/storage/sealed-store.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fg-seal-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const KEY = newSealKeyText();
const OTHER_KEY = newSealKeyText();
const SECRETS = {
  password: 'pw-0f3c9a-in-the-clear?',
  privateKey:
    '-----BEGIN OPENSSH PRIVATE KEY-----\nsecret-key-body-77aa\n-----END OPENSSH PRIVATE KEY-----\n',
  secretId: 'secret-id-5b2e-7c1d',
  webhook: 'webhook-shared-secret-91c4',
};
const VALUES: [string, unknown][] = [
  ['mounts/m1/configuration_git_credential', { username: 'u', password: SECRETS.password }],
  ['mounts/m1/configuration_git_ssh_key', { private_key: SECRETS.privateKey, known_hosts: 'h' }],
  ['mounts/m1/configure_vault_access', { role_id: 'r', secret_id: SECRETS.secretId }],
  ['mounts/m1/webhook/gh', { name: 'gh', source: 'github', secret: SECRETS.webhook }],
  ['mounts/m1/configuration', { git_repo_url: 'https://example.test/r.git' }],
];

/** Every file below `dir`, with its text. */
async function allFiles(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile()) continue;
    const path = join(ent.parentPath, ent.name);
    out.push({ path, text: await readFile(path, 'utf8') });
  }
  return out;
}

async function expectNoSecretOnDisk(): Promise<void> {
  const files = await allFiles(dataDir);
  expect(files.length).toBeGreaterThan(VALUES.length);
  for (const secret of [...Object.values(SECRETS), 'secret-key-body-77aa']) {
    expect(files.filter((f) => f.text.includes(secret)).map((f) => f.path)).toEqual([]);
  }
}

describe('the seal key file format', () => {
  it.each([
    ['', 'must be base64 of 32 random bytes'],
    ['not base64!', 'must be base64 of 32 random bytes'],
    [Buffer.alloc(16).toString('base64'), 'must be base64 of 32 bytes (it holds 16)'],
  ])('refuses %j: %s', (text, rule) => {
    expect(parseSealKey(text)).toBe(rule);
  });

  it('takes what the seal-key command prints (32 random bytes, base64, a newline)', () => {
    const key = parseSealKey(newSealKeyText());
    expect(Buffer.isBuffer(key) && key.length).toBe(32);
    expect(newSealKeyText()).not.toBe(newSealKeyText());
  });
});

describe('which keys are secret', () => {
  it.each([
    ['mounts/m1/configuration_git_credential', true],
    ['mounts/m1/configuration_git_ssh_key', true],
    ['mounts/m1/configure_vault_access', true],
    ['mounts/m1/webhook/gh', true],
    ['mounts/m1/configuration', false],
    ['mounts/m1/task/x', false],
    ['configuration_git_credential', false],
  ])('%s → %s', (key, secret) => {
    expect(isSecretStoreKey(key)).toBe(secret);
  });
});

describe('a data dir store with a seal key', () => {
  it('keeps no secret value in clear on disk and reads every value back', async () => {
    const { store, sealed } = await openDataDirStore(dataDir, KEY);
    expect(sealed).toBe(true);
    for (const [k, v] of VALUES) await store.put(k, v);
    await expectNoSecretOnDisk();
    // A non-secret value stays readable as it was.
    const files = await allFiles(dataDir);
    expect(files.some((f) => f.text.includes('https://example.test/r.git'))).toBe(true);

    const again = (await openDataDirStore(dataDir, KEY)).store;
    for (const [k, v] of VALUES) expect((await again.get(k))?.value).toEqual(v);
  });

  it('refuses to open with a wrong key, naming the problem', async () => {
    const { store } = await openDataDirStore(dataDir, KEY);
    await store.put(VALUES[0]![0], VALUES[0]![1]);
    await expect(openDataDirStore(dataDir, OTHER_KEY)).rejects.toThrow(
      /seal key does not match the one this store was sealed with/,
    );
  });

  it('refuses to open without a key once sealed, naming the flag', async () => {
    await openDataDirStore(dataDir, KEY);
    await expect(openDataDirStore(dataDir)).rejects.toThrow(/sealed.*--seal-key-file/);
  });

  it('refuses a key file that is not a seal key', async () => {
    await expect(openDataDirStore(dataDir, 'short')).rejects.toThrow(/seal key must be base64/);
  });

  it('seals, at start, the secrets written in clear before the key was set', async () => {
    const clear = (await openDataDirStore(dataDir)).store;
    for (const [k, v] of VALUES) await clear.put(k, v);
    const files = await allFiles(dataDir);
    expect(files.some((f) => f.text.includes(SECRETS.password))).toBe(true);

    const { store, report } = await openDataDirStore(dataDir, KEY);
    expect(report).toEqual({ sealed: 4, checkWritten: true });
    await expectNoSecretOnDisk();
    for (const [k, v] of VALUES) expect((await store.get(k))?.value).toEqual(v);
  });

  it('binds a sealed value to its key: moved to another key it does not open', async () => {
    const { store } = await openDataDirStore(dataDir, KEY);
    await store.put('mounts/m1/webhook/a', { secret: 's' });
    const raw = await openFileStore(join(dataDir, 'store'));
    await raw.put('mounts/m1/webhook/b', (await raw.get('mounts/m1/webhook/a'))?.value);
    await expect(store.get('mounts/m1/webhook/b')).rejects.toThrow(/does not open/);
  });

  it('hides its check value from listings and copies the secrets out in clear', async () => {
    const { store } = await openDataDirStore(dataDir, KEY);
    for (const [k, v] of VALUES) await store.put(k, v);
    expect(await store.list('')).toEqual(['mounts/']);
    expect(await (await openFileStore(join(dataDir, 'store'))).list('')).toContain(SEAL_CHECK_KEY);
    const kv = createMemoryStore();
    expect(await copyStore(store, kv)).toMatchObject({ keys: VALUES.length });
    for (const [k, v] of VALUES) expect((await kv.get(k))?.value).toEqual(v);

    // And back into a fresh sealed data dir: sealed again on the way in.
    await rm(dataDir, { recursive: true, force: true });
    const back = (await openDataDirStore(dataDir, KEY)).store;
    await copyStore(kv, back);
    await expectNoSecretOnDisk();
    for (const [k, v] of VALUES) expect((await back.get(k))?.value).toEqual(v);
  });
});

describe('a data dir store without a seal key', () => {
  it('stores secrets as written (the service warns at start)', async () => {
    const { store, sealed } = await openDataDirStore(dataDir);
    expect(sealed).toBe(false);
    await store.put(VALUES[0]![0], VALUES[0]![1]);
    const files = await allFiles(dataDir);
    expect(files.some((f) => f.text.includes(SECRETS.password))).toBe(true);
  });
});
