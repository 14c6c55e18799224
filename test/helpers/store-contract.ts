/**
 * The behaviour every Store must show, as one table of cases shared by the file, memory and
 * Vault KV stores, so a backend cannot drift from the others. Call it inside a `describe`.
 */
import { expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { scopedStore, updateWithCas, type Store } from '../../src/storage/store.js';

/** Register the contract cases; `open` must return an empty store each time it is called. */
export function storeContract(open: () => Promise<Store>): void {
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

  it('a deleted key starts again at version 1 and cas 0 creates it', async () => {
    const s = await open();
    await s.put('k', 'a');
    await s.put('k', 'b');
    await s.delete('k');
    expect(await s.get('k')).toBeUndefined();
    expect(await s.put('k', 'c', { cas: 0 })).toBe(1);
    expect(await s.get('k')).toEqual({ value: 'c', version: 1 });
  });

  it('keeps JSON values of every shape', async () => {
    const s = await open();
    const values: [string, unknown][] = [
      ['string', 'text'],
      ['number', 42],
      ['boolean', false],
      ['null', null],
      ['array', [1, 'two', { three: 3 }]],
      ['object', { nested: { list: ['a'], n: 1.5 } }],
    ];
    for (const [k, v] of values) await s.put(`shape/${k}`, v);
    for (const [k, v] of values) expect((await s.get(`shape/${k}`))?.value).toEqual(v);
  });

  it('lists nothing under a missing folder', async () => {
    const s = await open();
    expect(await s.list('')).toEqual([]);
    expect(await s.list('nothing/here/')).toEqual([]);
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
}
