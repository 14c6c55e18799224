/**
 * What a benchmark returns and how the run is written down: BENCHMARKS.md (committed; a table per
 * benchmark with ours, the baseline measured in the same run, the ratio, the target and whether it
 * is met, plus the machine) and bench-results/latest.json (git-ignored, everything measured).
 * A partial run may be merged in: its sections replace those of the same benchmarks and every
 * other section is kept byte for byte.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
  /** os.loadavg() (1, 5, 15 min) when the benchmark started and ended: the machine may be shared. */
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
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
    'npx tsx bench/run.ts --only 2,3   # a subset (bench-results/latest.json only)',
    'npx tsx bench/run.ts --only 2,3 --merge   # a subset, its sections replaced in this file',
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
  for (const r of results) out.push(renderSection(r));
  return out.join('\n');
}

const loads = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(' ');

/** One benchmark's section, from its `## id. title` heading to the blank line after its footer. */
export function renderSection(r: BenchResult, rerunAt?: string): string {
  const out: string[] = [`## ${r.id}. ${r.title}`, '', r.method, ''];
  out.push('| metric | ours | baseline | ratio | target | |', '|---|---|---|---|---|---|');
  for (const row of r.rows) {
    const base =
      row.baseline === undefined ? '—' : `${fmt(row.baseline)} ${row.unit} (${row.baselineLabel})`;
    out.push(
      `| ${row.metric} | ${fmt(row.ours)} ${row.unit} | ${base} | ${
        row.ratio === undefined ? '—' : `${fmt(row.ratio)}×`
      } | ${row.target} | ${verdict(row.met)} |`,
    );
  }
  if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `- ${n}`));
  const footer = [`${r.seconds.toFixed(0)} s`];
  if (rerunAt !== undefined) footer.push(`rerun alone on ${rerunAt}`);
  if (r.loadAverage) {
    footer.push(
      `load average (1, 5, 15 min) ${loads(r.loadAverage.start)} at start, ` +
        `${loads(r.loadAverage.end)} at end`,
    );
  }
  out.push('', `(${footer.join('; ')})`, '');
  return out.join('\n');
}

const SECTION_HEADING = /^## (\d+)\. /;
const RERUN_LINE = /^Rerun alone \(`npx tsx bench\/run\.ts --only ([\d,]+) --merge`\)/;

/**
 * BENCHMARKS.md with `results` merged into `existing`: a section of the same id is replaced, a new
 * id is inserted in numeric order, every other section is kept as it was; a line under the run's
 * date says which benchmarks were rerun alone, when (and on which machine if it differs).
 */
export function mergeMarkdown(
  existing: string,
  machine: Machine,
  results: readonly BenchResult[],
): string {
  const lines = existing.split('\n');
  const firstSection = lines.findIndex((l) => SECTION_HEADING.test(l));
  if (firstSection < 0) throw new Error('BENCHMARKS.md has no benchmark sections to merge into');
  const preamble = lines.slice(0, firstSection);
  const sections = new Map<string, string>();
  let id = '';
  let current: string[] = [];
  const flush = (): void => {
    if (id !== '') sections.set(id, current.join('\n').replace(/\n*$/, '\n'));
  };
  for (const line of lines.slice(firstSection)) {
    const m = SECTION_HEADING.exec(line);
    if (m?.[1] !== undefined) {
      flush();
      id = m[1];
      current = [];
    }
    current.push(line);
  }
  flush();
  for (const r of results) sections.set(r.id, renderSection(r, machine.date));

  const ids = results.map((r) => r.id).join(', ');
  const machineLine = `${machine.nproc} × ${machine.cpuModel}, ${machine.memoryMiB} MiB, Node ${machine.node}, ${machine.docker}`;
  const sameMachine =
    preamble.includes(`| CPU | ${machine.nproc} × ${machine.cpuModel} |`) &&
    preamble.includes(`| Node | ${machine.node} |`);
  const rerun =
    `Rerun alone (\`npx tsx bench/run.ts --only ${results.map((r) => r.id).join(',')} ` +
    `--merge\`): ${ids} on ${machine.date}${sameMachine ? '' : ` on another machine (${machineLine})`}; ` +
    `those sections say so, the others are from the run above.`;
  // An earlier rerun line whose benchmarks are all rerun now says nothing true any more.
  const rerunNow = new Set(results.map((r) => r.id));
  const kept = preamble.filter((l, i) => {
    const superseded = (line: string | undefined): boolean => {
      const m = RERUN_LINE.exec(line ?? '');
      return m?.[1] !== undefined && m[1].split(',').every((id) => rerunNow.has(id));
    };
    // Drop the line and the blank line that separates it from the one above.
    return !superseded(l) && !(l === '' && superseded(preamble[i + 1]));
  });
  const lastRunLine = Math.max(
    ...kept.map((l, i) => (l.startsWith('Run: ') || RERUN_LINE.test(l) ? i : -1)),
  );
  const at = lastRunLine >= 0 ? lastRunLine + 1 : kept.length;
  const head = [...kept.slice(0, at), '', rerun, ...kept.slice(at)];
  const body = [...sections.entries()]
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, text]) => text);
  return `${head.join('\n')}\n${body.join('\n')}`;
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

/** Merge `results` into the existing BENCHMARKS.md under `root`; write bench-results/latest.json. */
export async function mergeReports(
  root: string,
  machine: Machine,
  results: readonly BenchResult[],
): Promise<void> {
  const file = join(root, 'BENCHMARKS.md');
  await writeFile(file, mergeMarkdown(await readFile(file, 'utf8'), machine, results));
  await mkdir(join(root, 'bench-results'), { recursive: true });
  await writeFile(
    join(root, 'bench-results', 'latest.json'),
    `${JSON.stringify({ machine, partial: true, merged: results.map((r) => r.id), results }, null, 2)}\n`,
  );
}
