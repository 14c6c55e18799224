/**
 * BENCHMARKS.md from a partial run (`bench/run.ts --only … --merge`): the rerun benchmarks'
 * sections are replaced or inserted, every other section stays byte for byte, and the file says
 * what was rerun alone and when. Also the pool of signed deliveries benchmark 5 sends: distinct
 * bodies, each with a valid signature, the same for the same seed.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signedPool } from '../../bench/lib/delivery-pool.js';
import type { Machine } from '../../bench/lib/machine.js';
import {
  absolute,
  mergeMarkdown,
  renderMarkdown,
  type BenchResult,
} from '../../bench/lib/report.js';

const machine = (date: string, node = 'v20.20.2'): Machine => ({
  date,
  nproc: 2,
  cpuModel: 'AMD EPYC',
  memoryMiB: 24105,
  os: 'Linux 6.18',
  node,
  git: 'git version 2.39.5',
  gpg: 'gpg (GnuPG) 2.2.40',
  docker: 'server 20.10.24, client 28.2.2',
});

const result = (
  id: string,
  ours: number,
  loadAverage?: BenchResult['loadAverage'],
): BenchResult => ({
  id,
  title: `benchmark ${id}`,
  method: `method of ${id}`,
  rows: [absolute('median', 'ms', ours, '≤ 2000 ms', ours <= 2000)],
  notes: [`note of ${id}`],
  raw: {},
  seconds: 12,
  ...(loadAverage ? { loadAverage } : {}),
});

const section = (md: string, id: string): string => {
  const start = md.indexOf(`## ${id}. `);
  const next = md.indexOf('\n## ', start + 1);
  return md.slice(start, next < 0 ? undefined : next);
};

describe('BENCHMARKS.md merged from a partial run', () => {
  const full = renderMarkdown(machine('2026-11-22T09:22:56Z'), [
    result('1', 170),
    result('2', 9),
    result('5', 4),
    result('6', 91),
  ]);

  it('replaces the rerun sections, inserts new ids in order and keeps the others verbatim', () => {
    const load = { start: [11.97, 14.63, 12.09], end: [12.5, 14.1, 12.2] };
    const merged = mergeMarkdown(full, machine('2026-12-02T05:00:00Z'), [
      result('5', 3, load),
      result('7', 1500, load),
    ]);
    for (const id of ['1', '2', '6']) expect(section(merged, id)).toBe(section(full, id));
    expect(section(merged, '5')).toContain('| median | 3.00 ms |');
    expect(section(merged, '5')).not.toContain('| median | 4.00 ms |');
    expect(section(merged, '7')).toContain('| median | 1500 ms |');
    expect(section(merged, '7')).toContain('rerun alone on 2026-12-02T05:00:00Z');
    expect(section(merged, '7')).toContain(
      'load average (1, 5, 15 min) 11.97 14.63 12.09 at start, 12.50 14.10 12.20 at end',
    );
    const order = [...merged.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]);
    expect(order).toEqual(['1', '2', '5', '6', '7']);
    expect(merged).toContain('Run: 2026-11-22T09:22:56Z');
    expect(merged).toMatch(
      /Rerun alone \(`npx tsx bench\/run.ts --only 5,7 --merge`\): 5, 7 on 2026-12-02T05:00:00Z;/,
    );
    expect(merged.endsWith(')\n')).toBe(true);
  });

  it('a second merge keeps the first rerun line and adds its own', () => {
    const once = mergeMarkdown(full, machine('2026-12-02T05:00:00Z'), [result('7', 1500)]);
    const twice = mergeMarkdown(once, machine('2026-12-02T06:00:00Z'), [result('5', 3)]);
    expect(twice).toContain('7 on 2026-12-02T05:00:00Z');
    expect(twice).toContain('5 on 2026-12-02T06:00:00Z');
    expect(section(twice, '7')).toBe(section(once, '7'));
  });

  it('a later merge of the same benchmarks replaces the earlier rerun line', () => {
    const once = mergeMarkdown(full, machine('2026-12-02T05:00:00Z'), [result('5', 3)]);
    const twice = mergeMarkdown(once, machine('2026-12-02T06:00:00Z'), [
      result('5', 2),
      result('7', 1500),
    ]);
    expect(twice).not.toContain('2026-12-02T05:00:00Z');
    expect(twice.match(/^Rerun alone /gm)).toHaveLength(1);
    expect(twice).toContain('Run: 2026-11-22T09:22:56Z, 48 s in total.\n\nRerun alone (');
    expect(twice).not.toMatch(/\n\n\n/);
  });

  it('names another machine when the rerun was not on the machine of the run', () => {
    const merged = mergeMarkdown(full, machine('2026-12-02T05:00:00Z', 'v22.1.0'), [
      result('5', 3),
    ]);
    expect(merged).toContain('on another machine (2 × AMD EPYC, 24105 MiB, Node v22.1.0');
  });

  it('refuses a file without benchmark sections', () => {
    expect(() => mergeMarkdown('# Benchmarks\n', machine('d'), [result('5', 3)])).toThrow(
      /no benchmark sections/,
    );
  });
});

describe('the signed deliveries of benchmark 5', () => {
  const spec = { mode: 'distinct', seed: 'abc', before: 'f'.repeat(40), poolSize: 50 } as const;

  it('are distinct bodies, each signed over its own bytes, with its own delivery id', () => {
    const pool = signedPool(spec, 'secret');
    expect(new Set(pool.map((d) => d.body)).size).toBe(50);
    expect(new Set(pool.map((d) => d.headers['x-github-delivery'])).size).toBe(50);
    for (const d of pool) {
      const want = `sha256=${createHmac('sha256', 'secret').update(d.body).digest('hex')}`;
      expect(d.headers['x-hub-signature-256']).toBe(want);
      expect(JSON.parse(d.body)).toMatchObject({ ref: 'refs/heads/main', before: spec.before });
    }
  });

  it('are the same for the same seed (service and baseline get identical requests)', () => {
    expect(signedPool(spec, 'secret')).toEqual(signedPool(spec, 'secret'));
    expect(signedPool({ ...spec, seed: 'other' }, 'secret')[0]?.body).not.toBe(
      signedPool(spec, 'secret')[0]?.body,
    );
  });

  it('a replay is one delivery', () => {
    expect(signedPool({ ...spec, mode: 'replay' }, 'secret')).toHaveLength(1);
  });
});
