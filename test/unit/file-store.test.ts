import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileStore } from '../../src/storage/file-store.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';
import { storeContract } from '../helpers/store-contract.js';

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
  storeContract(open);
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

  it('a non-durable put (no fsync) is still versioned, 0600, without temp files, and survives reopening', async () => {
    const s1 = await openFileStore(join(dir, 'data'));
    expect(await s1.put('a/poll_state', { n: 1 }, { durable: false })).toBe(1);
    expect(await s1.put('a/poll_state', { n: 2 }, { durable: false, cas: 1 })).toBe(2);
    expect((await stat(join(dir, 'data', 'a', 'poll_state.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'data', 'a'))).toEqual(['poll_state.json']);
    const s2 = await openFileStore(join(dir, 'data'));
    expect(await s2.get('a/poll_state')).toEqual({ value: { n: 2 }, version: 2 });
  });

  it('reads an empty file (a non-durable write cut short by an OS crash) as no value', async () => {
    const s = await openFileStore(join(dir, 'data'));
    await s.put('a/poll_state', { n: 1 }, { durable: false });
    await writeFile(join(dir, 'data', 'a', 'poll_state.json'), '');
    expect(await s.get('a/poll_state')).toBeUndefined();
    expect(await s.put('a/poll_state', { n: 2 }, { cas: 0 })).toBe(1);
  });
});
