import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { openFileStore } from '../../src/storage/file-store.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore, updateWithCas, type Store } from '../../src/storage/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const backends: [string, () => Promise<Store>][] = [
  ['file store', () => openFileStore(join(dir, 'data'))],
  ['memory store', async () => createMemoryStore()],
];

describe.each(backends)('%s', (_name, open) => {
  it('stores, versions, lists Vault-style and deletes', async () => {
    const s = await open();
    expect(await s.get('configuration')).toBeUndefined();
    expect(await s.put('configuration', { a: 1 })).toBe(1);
    expect(await s.put('configuration', { a: 2 })).toBe(2);
    expect(await s.get('configuration')).toEqual({ value: { a: 2 }, version: 2 });
    await s.put('vault_request/one', { n: 1 });
    await s.put('vault_request/two.x', { n: 2 });
    expect(await s.list('')).toEqual(['configuration', 'vault_request/']);
    expect(await s.list('vault_request/')).toEqual(['one', 'two.x']);
    await s.delete('vault_request/one');
    await s.delete('vault_request/one');
    await s.delete('vault_request/two.x');
    expect(await s.list('')).toEqual(['configuration']);
  });

  it('check-and-set refuses a stale version and changes nothing', async () => {
    const s = await open();
    await s.put('k', 'v1', { cas: 0 });
    await expect(s.put('k', 'v2', { cas: 0 })).rejects.toSatisfy((e) => isAppError(e, 'CONFLICT'));
    expect((await s.get('k'))?.value).toBe('v1');
    await s.put('k', 'v2', { cas: 1 });
    expect((await s.get('k'))?.value).toBe('v2');
  });

  it('updateWithCas serialises concurrent increments', async () => {
    const s = await open();
    await Promise.all(
      Array.from({ length: 10 }, () => updateWithCas<number>(s, 'n', (n) => (n ?? 0) + 1, 50)),
    );
    expect((await s.get('n'))?.value).toBe(10);
  });

  it('scoped stores do not see each other', async () => {
    const s = await open();
    const a = scopedStore(s, 'mounts/a/');
    const b = scopedStore(s, 'mounts/b/');
    await a.put('configuration', 'A');
    expect(await b.get('configuration')).toBeUndefined();
    expect(await s.list('mounts/')).toEqual(['a/']);
  });

  it('rejects keys with empty or dot segments', async () => {
    const s = await open();
    for (const k of ['', 'a//b', '../x', 'a/./b', 'a/']) {
      await expect(s.get(k)).rejects.toSatisfy((e) => isAppError(e, 'INTERNAL'));
    }
  });
});

describe('file store on disk', () => {
  it('writes 0600 files in 0700 directories and leaves no temp files', async () => {
    const s = await openFileStore(join(dir, 'data'));
    await s.put('a/b', { secret: 'x' });
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'data', 'a'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'data', 'a', 'b.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'data', 'a'))).toEqual(['b.json']);
  });

  it('survives reopening (state is on disk)', async () => {
    const s1 = await openFileStore(join(dir, 'data'));
    await s1.put('last_successful_commit', 'abc');
    const s2 = await openFileStore(join(dir, 'data'));
    expect(await s2.get('last_successful_commit')).toEqual({ value: 'abc', version: 1 });
  });
});
