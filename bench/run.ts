/**
 * `make bench`: runs the benchmarks in order (most against a baseline measured in the same run; 8, image size and build time, is information only),
 * and writes BENCHMARKS.md and bench-results/latest.json. Repetition counts are chosen so the whole
 * run stays under ~10 minutes on a 2-core machine (benchmark 6 alone needs ~2.5 minutes of wall
 * time to cover a full 60 s poll period after settling), plus benchmark 12 (1,000 mounts: a few
 * minutes to configure them and let each poll once, then a 2-minute measured window).
 *
 *   npx tsx bench/run.ts [--only 1,3] [--quick] [--merge]
 *
 * `--quick` cuts repetitions (a smoke run; its numbers are not for the record). A partial run
 * (`--only`) writes its results to bench-results/latest.json only, unless `--merge` is given:
 * then its sections replace those of the same benchmarks in BENCHMARKS.md, every other section
 * stays as it was, and the file says which benchmarks were rerun alone, when. Each section
 * records the load average at its start and end (the machine may be shared).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT, testImageId } from '../test/helpers/bench.js';
import { benchPushLatency } from './b1-push-latency.js';
import { benchNoChangePoll } from './b2-no-change-poll.js';
import { benchIncrementalPoll } from './b3-incremental-poll.js';
import { benchSignatures } from './b4-signatures.js';
import { benchWebhookReceiver } from './b5-webhook-receiver.js';
import { benchMemory } from './b6-memory.js';
import { benchApprovalLatency } from './b7-approval-latency.js';
import { benchImage } from './b8-image.js';
import { benchPlugin } from './b9-plugin.js';
import { benchSshSignatures } from './b10-ssh-signatures.js';
import { benchFailover } from './b11-failover.js';
import { benchThousandMounts } from './b12-thousand-mounts.js';
import { describeMachine } from './lib/machine.js';
import { mergeReports, writeReports, type BenchResult } from './lib/report.js';
import { generateRepo, type GeneratedRepo } from './lib/repo.js';

interface Args {
  readonly only: ReadonlySet<string>;
  readonly quick: boolean;
  readonly merge: boolean;
}

const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

function parseArgs(argv: readonly string[]): Args {
  const i = argv.indexOf('--only');
  const list = i >= 0 ? (argv[i + 1] ?? '') : ALL.join(',');
  const only = new Set(list.split(',').map((s) => s.trim()));
  const unknown = [...only].filter((id) => !ALL.includes(id));
  if (unknown.length > 0) throw new Error(`--only: no benchmark ${unknown.join(', ')}`);
  return { only, quick: argv.includes('--quick'), merge: argv.includes('--merge') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const q = args.quick;
  if (args.merge && q) throw new Error('--merge writes BENCHMARKS.md: not with --quick');
  const image = testImageId();
  if (!image) throw new Error('no test image: run `bash scripts/provision.sh` (make bench does)');
  const machine = await describeMachine();
  const results: BenchResult[] = [];
  const step = async (id: string, fn: () => Promise<BenchResult>): Promise<void> => {
    if (!args.only.has(id)) return;
    const atStart = loadavg();
    process.stderr.write(
      `benchmark ${id}… (load average ${atStart.map((x) => x.toFixed(2)).join(' ')})\n`,
    );
    const r = { ...(await fn()), loadAverage: { start: atStart, end: loadavg() } };
    for (const row of r.rows) {
      const ratio = row.ratio === undefined ? '' : ` ratio ${row.ratio.toFixed(2)}`;
      const met = row.met === undefined ? '' : row.met ? ' [met]' : ' [MISSED]';
      process.stderr.write(`  ${row.metric}: ${row.ours.toFixed(2)} ${row.unit}${ratio}${met}\n`);
    }
    results.push(r);
  };

  await step('1', () => benchPushLatency(image, q ? 3 : 20));
  let repo: GeneratedRepo | undefined;
  try {
    if (args.only.has('2') || args.only.has('3')) repo = await generateRepo(q ? 2000 : 10_000);
    const r = repo;
    if (r) {
      await step('2', () => benchNoChangePoll(r, image, q ? 5 : 30));
      await step('3', () => benchIncrementalPoll(r, q ? 3 : 20, 2));
    }
  } finally {
    await repo?.cleanup();
  }
  await step('4', () => benchSignatures(q ? 30 : 300, q ? 5 : 40));
  await step('5', () => benchWebhookReceiver(image, q ? 3 : 10, 10));
  await step('6', () => benchMemory(image, q ? 5 : 70, q ? 10 : 60));
  await step('7', () => benchApprovalLatency(image, q ? 3 : 20));
  await step('8', () => benchImage());
  await step('9', () => benchPlugin(image, q ? 50 : 500, q ? 3 : 10));
  await step('10', () => benchSshSignatures(q ? 30 : 300, q ? 5 : 40));
  await step('11', () => benchFailover(image, q ? 1 : 5, q ? 1 : 3));
  await step('12', () => benchThousandMounts(image, q ? 100 : 1000, q ? 1 : 2));

  const complete = args.only.size === ALL.length && !q;
  if (complete) {
    await writeReports(ROOT, machine, results);
    process.stderr.write('wrote BENCHMARKS.md and bench-results/latest.json\n');
  } else if (args.merge) {
    await mergeReports(ROOT, machine, results);
    process.stderr.write('merged into BENCHMARKS.md; wrote bench-results/latest.json\n');
  } else {
    await mkdir(join(ROOT, 'bench-results'), { recursive: true });
    await writeFile(
      join(ROOT, 'bench-results', 'latest.json'),
      `${JSON.stringify({ machine, partial: true, quick: q, results }, null, 2)}\n`,
    );
    process.stderr.write('partial run: wrote bench-results/latest.json only\n');
  }
}

await main();
