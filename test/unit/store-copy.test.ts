/**
 * Copying stores: files → memory → files gives the same keys and values, a second run writes
 * nothing, keys that only the target has are kept, and progress reports names, never values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyStore, walkKeys } from '../../src/storage/copy.js';
import { openFileStore } from '../../src/storage/file-store.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import type { Store } from '../../src/storage/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fg-copy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET = 'hunter2-very-secret';
const content: [string, unknown][] = [
  ['lease/m1', { holder: 'a', expires: 1 }],
  ['mounts/m1/configuration', { git_branch_name: 'main', commands: ['make'] }],
  ['mounts/m1/configuration_git_credential', { username: 'u', password: SECRET }],
  ['mounts/m1/vault_request/db.creds', { name: 'db.creds', wrap_ttl: 60 }],
  ['mounts/m1/task/2024/01/x', 'deep'],
  ['mounts/m2/last_successful_commit', null],
  ['poll_request/m1', { requested: 2, handled: 1, requested_at: 'x' }],
];

async function dump(s: Store): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const k of walkKeys(s)) out[k] = (await s.get(k))?.value;
  return out;
}

describe('copyStore', () => {
  it('round trip files → memory → files keeps every key and value', async () => {
    const src = await openFileStore(join(dir, 'a'));
    for (const [k, v] of content) await src.put(k, v);
    const mem = createMemoryStore();
    const back = await openFileStore(join(dir, 'b'));
    expect(await copyStore(src, mem)).toEqual({ keys: 7, written: 7, unchanged: 0 });
    expect(await copyStore(mem, back)).toEqual({ keys: 7, written: 7, unchanged: 0 });
    expect(await dump(back)).toEqual(Object.fromEntries(content));
    expect(await dump(mem)).toEqual(await dump(src));
  });

  it('is idempotent: a second run writes nothing and bumps no version', async () => {
    const src = createMemoryStore();
    for (const [k, v] of content) await src.put(k, v);
    const dst = createMemoryStore();
    await copyStore(src, dst);
    expect(await copyStore(src, dst)).toEqual({ keys: 7, written: 0, unchanged: 7 });
    expect((await dst.get('mounts/m1/configuration'))?.version).toBe(1);
  });

  it('overwrites changed keys, keeps target-only keys, and copies only below a prefix', async () => {
    const src = createMemoryStore();
    for (const [k, v] of content) await src.put(k, v);
    const dst = createMemoryStore();
    await dst.put('mounts/m1/configuration', { old: true });
    await dst.put('only/in/target', 1);
    expect(await copyStore(src, dst, { prefix: 'mounts/m1/' })).toEqual({
      keys: 4,
      written: 4,
      unchanged: 0,
    });
    expect((await dst.get('mounts/m1/configuration'))?.value).toEqual(content[1]?.[1]);
    expect((await dst.get('only/in/target'))?.value).toBe(1);
    expect(await dst.get('lease/m1')).toBeUndefined();
  });

  it('reports key names to onKey, never values', async () => {
    const src = createMemoryStore();
    for (const [k, v] of content) await src.put(k, v);
    const seen: unknown[] = [];
    await copyStore(src, createMemoryStore(), { onKey: (...args) => seen.push(args) });
    expect(seen).toHaveLength(7);
    expect(seen).toContainEqual(['mounts/m1/configuration_git_credential', 'written']);
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });
});
