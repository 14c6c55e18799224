/**
 * What a benchmark returns and how the run is written down: BENCHMARKS.md (committed; a table per
 * benchmark with ours, the baseline measured in the same run, the ratio, the target and whether it
 * is met, plus the machine) and bench-results/latest.json (git-ignored, everything measured).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Machine } from './machine.js';

/** One compared quantity. `better` says which direction wins. */
export interface Row {
  readonly metric: string;
  readonly unit: string;
  readonly ours: number;
  readonly baseline: number | undefined;
  readonly baselineLabel: string;
  /** ours / baseline; whether that is good depends on the target. */
  readonly ratio: number | undefined;
  readonly target: string;
  readonly met: boolean | undefined;
}

/** The result of one benchmark. */
export interface BenchResult {
  readonly id: string;
  readonly title: string;
  readonly method: string;
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
  /** Raw series and extra numbers for the JSON file. */
  readonly raw: Record<string, unknown>;
  readonly seconds: number;
}

/** A row comparing a lower-is-better quantity: ratio = ours / baseline, met when ≤ `max`. */
export function lowerIsBetter(
  metric: string,
  unit: string,
  ours: number,
  baseline: number,
  baselineLabel: string,
  max: number | undefined,
): Row {
  const ratio = ours / baseline;
  return {
    metric,
    unit,
    ours,
    baseline,
    baselineLabel,
    ratio,
    target: max === undefined ? '—' : `≤ ${max}× baseline`,
    met: max === undefined ? undefined : ratio <= max,
  };
}

/** A row comparing a higher-is-better quantity: ratio = ours / baseline, met when ≥ `min`. */
export function higherIsBetter(
  metric: string,
  unit: string,
  ours: number,
  baseline: number,
  baselineLabel: string,
  min: number | undefined,
): Row {
  const ratio = ours / baseline;
  return {
    metric,
    unit,
    ours,
    baseline,
    baselineLabel,
    ratio,
    target: min === undefined ? '—' : `≥ ${min}× baseline`,
    met: min === undefined ? undefined : ratio >= min,
  };
}

/** A row against an absolute target. */
export function absolute(
  metric: string,
  unit: string,
  ours: number,
  target: string,
  met: boolean | undefined,
  baseline?: { value: number; label: string },
): Row {
  return {
    metric,
    unit,
    ours,
    baseline: baseline?.value,
    baselineLabel: baseline?.label ?? '—',
    ratio: baseline ? ours / baseline.value : undefined,
    target,
    met,
  };
}

function fmt(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '—';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? '(info)' : met ? '**met**' : '**missed**';
}

/** BENCHMARKS.md text. */
export function renderMarkdown(machine: Machine, results: readonly BenchResult[]): string {
  const out: string[] = [
    '# Benchmarks',
    '',
    'Every number is a ratio against a baseline measured **in the same run on the same machine**',
    '(medians and tails over repetitions; loopback only). Regenerate with:',
    '',
    '```sh',
    'make bench            # = bash scripts/provision.sh && npm run build && npx tsx bench/run.ts',
    'npx tsx bench/run.ts --only 2,3   # a subset',
    '```',
    '',
    `Run: ${machine.date}, ${results.reduce((a, r) => a + r.seconds, 0).toFixed(0)} s in total.`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${machine.nproc} × ${machine.cpuModel} |`,
    `| Memory | ${machine.memoryMiB} MiB |`,
    `| OS | ${machine.os} |`,
    `| Node | ${machine.node} |`,
    `| git | ${machine.git} |`,
    `| gpg | ${machine.gpg} |`,
    `| docker | ${machine.docker} |`,
    '',
    'Ratio = ours / baseline. For times lower is better; for rates higher is better.',
    '',
  ];
  for (const r of results) {
    out.push(`## ${r.id}. ${r.title}`, '', r.method, '');
    out.push('| metric | ours | baseline | ratio | target | |', '|---|---|---|---|---|---|');
    for (const row of r.rows) {
      const base =
        row.baseline === undefined
          ? '—'
          : `${fmt(row.baseline)} ${row.unit} (${row.baselineLabel})`;
      out.push(
        `| ${row.metric} | ${fmt(row.ours)} ${row.unit} | ${base} | ${
          row.ratio === undefined ? '—' : `${fmt(row.ratio)}×`
        } | ${row.target} | ${verdict(row.met)} |`,
      );
    }
    if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `- ${n}`));
    out.push('', `(${r.seconds.toFixed(0)} s)`, '');
  }
  return out.join('\n');
}

/** Write BENCHMARKS.md and bench-results/latest.json under `root`. */
export async function writeReports(
  root: string,
  machine: Machine,
  results: readonly BenchResult[],
): Promise<void> {
  await writeFile(join(root, 'BENCHMARKS.md'), renderMarkdown(machine, results));
  await mkdir(join(root, 'bench-results'), { recursive: true });
  await writeFile(
    join(root, 'bench-results', 'latest.json'),
    `${JSON.stringify({ machine, results }, null, 2)}\n`,
  );
}
