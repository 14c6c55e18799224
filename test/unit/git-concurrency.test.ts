import { describe, expect, it } from 'vitest';
import { createGitSlots } from '../../src/git/concurrency.js';

/** A piece of work that stays in flight until `release` is called. */
function gated() {
  let release = (): void => undefined;
  const done = new Promise<void>((r) => {
    release = r;
  });
  return { done, release: () => release() };
}

describe('git slots', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (limit) => {
    expect(() => createGitSlots(limit)).toThrow(/whole number/);
  });

  it('runs at most `limit` pieces of work at once, in arrival order', async () => {
    const slots = createGitSlots(3);
    const gates = Array.from({ length: 10 }, gated);
    const started: number[] = [];
    let alive = 0;
    let maxAlive = 0;
    const all = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        alive++;
        maxAlive = Math.max(maxAlive, alive);
        await g.done;
        alive--;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    expect(slots.active).toBe(3);
    expect(slots.waiting).toBe(7);
    gates[1]?.release();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.release();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(maxAlive).toBe(3);
    expect(slots.maxActive).toBe(3);
    expect(slots.active).toBe(0);
    expect(slots.waiting).toBe(0);
  });

  it('gives the slot back when the work throws', async () => {
    const slots = createGitSlots(1);
    await expect(slots.run(() => Promise.reject(new Error('git died')))).rejects.toThrow(
      'git died',
    );
    expect(await slots.run(() => Promise.resolve('next'))).toBe('next');
    expect(slots.active).toBe(0);
  });

  it('keeps order and the bound across thousands of waiters', async () => {
    const slots = createGitSlots(2);
    const order: number[] = [];
    let alive = 0;
    let maxAlive = 0;
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        slots.run(async () => {
          alive++;
          maxAlive = Math.max(maxAlive, alive);
          order.push(i);
          await new Promise((r) => setImmediate(r));
          alive--;
        }),
      ),
    );
    expect(maxAlive).toBe(2);
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
