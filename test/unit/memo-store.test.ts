/**
 * The memory of the service's own file store (src/storage/memo-store.ts): a remembered key is
 * read once, then answered from what the last read or write through it left; a failed write
 * forgets; a read that overlapped a write keeps nothing stale; other keys pass through.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { memoizedStore } from '../../src/storage/memo-store.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { isLastCommitKey } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';

const KEY = 'mounts/m/last_successful_commit';

/** A store that counts reads per key and can hold a read until released. */
function counting(inner: Store) {
  const reads = new Map<string, number>();
  let gate: Promise<void> | undefined;
  const s: Store = {
    async get<T>(key: string) {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      const e = await inner.get<T>(key);
      if (gate) await gate;
      return e;
    },
    put: (k, v, o) => inner.put(k, v, o),
    delete: (k) => inner.delete(k),
    list: (p) => inner.list(p),
  };
  return {
    store: s,
    reads: (key: string) => reads.get(key) ?? 0,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

describe('memoized store', () => {
  it('reads a remembered key once, absent or present, and passes other keys through', async () => {
    const c = counting(createMemoryStore());
    const memo = memoizedStore(c.store, isLastCommitKey);
    expect(await memo.get(KEY)).toBeUndefined();
    expect(await memo.get(KEY)).toBeUndefined();
    expect(c.reads(KEY)).toBe(1);

    await memo.get('mounts/m/configuration');
    await memo.get('mounts/m/configuration');
    expect(c.reads('mounts/m/configuration')).toBe(2);
  });

  it('answers a write through it from memory, with the version the store gave', async () => {
    const c = counting(createMemoryStore());
    const memo = memoizedStore(c.store, isLastCommitKey);
    const v1 = await memo.put(KEY, { commit: 'a' });
    const v2 = await memo.put(KEY, { commit: 'b' }, { cas: v1 });
    expect(await memo.get(KEY)).toEqual({ value: { commit: 'b' }, version: v2 });
    expect(c.reads(KEY)).toBe(0);
    await memo.delete(KEY);
    expect(await memo.get(KEY)).toBeUndefined();
    expect(c.reads(KEY)).toBe(0);
  });

  it('forgets a key whose write failed (a CAS conflict), and reads the store next time', async () => {
    const c = counting(createMemoryStore());
    const memo = memoizedStore(c.store, isLastCommitKey);
    const v1 = await memo.put(KEY, { commit: 'a' });
    await expect(memo.put(KEY, { commit: 'x' }, { cas: v1 + 5 })).rejects.toBeInstanceOf(AppError);
    expect(await memo.get(KEY)).toEqual({ value: { commit: 'a' }, version: v1 });
    expect(c.reads(KEY)).toBe(1);
  });

  it('keeps nothing from a read that overlapped a write', async () => {
    const c = counting(createMemoryStore());
    await c.store.put(KEY, { commit: 'old' });
    const memo = memoizedStore(c.store, isLastCommitKey);
    const release = c.hold();
    const reading = memo.get(KEY); // reads 'old', held before it returns
    await new Promise((r) => setTimeout(r, 0));
    await memo.put(KEY, { commit: 'new' });
    release();
    expect((await reading)?.value).toEqual({ commit: 'old' });
    expect((await memo.get(KEY))?.value).toEqual({ commit: 'new' });
    expect(c.reads(KEY)).toBe(1);
  });

  it('shares frozen values: a writer keeps its own object, a reader cannot change the memory', async () => {
    const memo = memoizedStore(createMemoryStore(), isLastCommitKey);
    const mine = { commit: 'a', nested: { at: '1' } };
    await memo.put(KEY, mine);
    mine.nested.at = '2';
    const got = (await memo.get<typeof mine>(KEY))?.value;
    expect(got?.nested.at).toBe('1');
    expect(() => {
      (got as { commit: string }).commit = 'z';
    }).toThrow(TypeError);
  });

  it('remembers only mounts/<mount>/last_successful_commit', () => {
    expect(isLastCommitKey(KEY)).toBe(true);
    expect(isLastCommitKey('mounts//last_successful_commit')).toBe(false);
    expect(isLastCommitKey('mounts/m/last_successful_commit/x')).toBe(false);
    expect(isLastCommitKey('mounts/m/poll_state')).toBe(false);
    expect(isLastCommitKey('last_successful_commit')).toBe(false);
  });
});
