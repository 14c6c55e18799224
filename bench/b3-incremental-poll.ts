/**
 * Benchmark 3: a poll with one new commit (and its note). Ours is the git adapter's incremental
 * path (`lsRemote()` + `fetch(refs)` of exactly the moved refs into the persistent mirror). The
 * baseline with the target is the floor of any poller that short-circuits: `git ls-remote` of the
 * same refs, then `git fetch` of exactly the refs that moved (known from the previous
 * advertisement kept in memory, same fetch flags as ours) into a `git clone --mirror`. A plain
 * `git fetch` and a fresh `git clone --mirror` (what the original plugin did on every poll) are
 * kept as information.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HostedGitMirrorFactory } from '../src/git/index.js';
import { git, run } from './lib/proc.js';
import { lowerIsBetter, type BenchResult } from './lib/report.js';
import { appendCommit, type GeneratedRepo } from './lib/repo.js';
import { summarize, timeMs } from './lib/stats.js';

/** Run benchmark 3: `reps` pushes; fresh clones on every `cloneEvery`-th. */
export async function benchIncrementalPoll(
  repo: GeneratedRepo,
  reps: number,
  cloneEvery: number,
): Promise<BenchResult> {
  const started = performance.now();
  const root = await mkdtemp(join(tmpdir(), 'fg-bench-b3-'));
  // As src/service.ts: our git calls run in the git host, a child process of this one.
  const factory = new HostedGitMirrorFactory();
  try {
    const mirror = await factory.open(join(root, 'ours'), {
      url: repo.url,
      branch: repo.branch,
      auth: { kind: 'none' },
    });
    await mirror.fetch(await mirror.lsRemote());
    const plain = join(root, 'plain.git');
    await run('git', ['clone', '--quiet', '--mirror', repo.url, plain]);
    const floorDir = join(root, 'floor.git');
    await run('git', ['clone', '--quiet', '--mirror', repo.url, floorDir]);
    const refs = ['refs/heads/main', 'refs/notes/signatures', 'refs/tags/latest-signature'];
    const advertised = async (): Promise<Map<string, string>> => {
      const out = await run('git', ['ls-remote', repo.url, ...refs]);
      return new Map(
        out
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => {
            const [id = '', ref = ''] = l.split('\t');
            return [ref, id] as const;
          }),
      );
    };
    let known = await advertised();
    const floorPoll = async (): Promise<void> => {
      const now = await advertised();
      const moved = [...now].filter(([ref, id]) => known.get(ref) !== id).map(([ref]) => ref);
      known = now;
      if (moved.length === 0) return;
      await git(floorDir, [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--no-auto-gc',
        '--no-show-forced-updates',
        repo.url,
        ...moved.map((r) => `+${r}:${r}`),
      ]);
    };
    const ours: number[] = [];
    const floors: number[] = [];
    const fetches: number[] = [];
    const clones: number[] = [];
    for (let i = -1; i < reps; i++) {
      const tip = await appendCommit(repo, i + 2);
      const a = await timeMs(async () => mirror.fetch(await mirror.lsRemote()));
      const fl = await timeMs(floorPoll);
      const b = await timeMs(() => git(plain, ['fetch', '--quiet']));
      if ((await git(floorDir, ['rev-parse', 'refs/heads/main'])).trim() !== tip)
        throw new Error('benchmark 3: the floor did not fetch the new tip');
      if ((await mirror.localRefs()).branch !== tip)
        throw new Error('benchmark 3: the mirror did not fetch the new tip');
      if ((await git(plain, ['rev-parse', 'refs/heads/main'])).trim() !== tip)
        throw new Error('benchmark 3: git fetch did not fetch the new tip');
      if (i < 0) continue;
      ours.push(a);
      floors.push(fl);
      fetches.push(b);
      if (i % cloneEvery === 0) {
        const dir = join(root, `clone-${i}.git`);
        clones.push(
          await timeMs(() => run('git', ['clone', '--quiet', '--mirror', repo.url, dir])),
        );
        await rm(dir, { recursive: true, force: true });
      }
    }
    const o = summarize(ours);
    const f = summarize(fetches);
    const fl = summarize(floors);
    const c = summarize(clones);
    return {
      id: '3',
      title: 'Poll with one new commit (10,000-commit repository)',
      method:
        `Each repetition appends one commit and its note to the origin (git fast-import), then times ` +
        `our mirror's \`lsRemote()\` + \`fetch(refs)\` (the adapter the service uses: simple-git in the git ` +
        `host process, a child of the bench, answering over IPC; the baselines spawn git from the ` +
        `bench itself), ` +
        `the floor (\`git ls-remote\` of the three refs + \`git fetch\` of the refs that moved since ` +
        `the previous advertisement, same flags as ours, into a \`git clone --mirror\`) and a plain ` +
        `\`git fetch\` in another \`git clone --mirror\`; every ${cloneEvery}th repetition also ` +
        `times a fresh \`git clone --mirror\`. ${reps} repetitions after 1 warm-up ` +
        `(${c.n} clones).`,
      rows: [
        lowerIsBetter(
          'median vs ls-remote + fetch of the moved refs',
          'ms',
          o.median,
          fl.median,
          'git ls-remote + git fetch <moved refs>',
          1.1,
        ),
        lowerIsBetter(
          'p95 vs ls-remote + fetch of the moved refs',
          'ms',
          o.p95,
          fl.p95,
          'git ls-remote + git fetch <moved refs>',
          undefined,
        ),
        lowerIsBetter('median vs plain fetch', 'ms', o.median, f.median, 'git fetch', undefined),
        lowerIsBetter('p95 vs plain fetch', 'ms', o.p95, f.p95, 'git fetch', undefined),
        lowerIsBetter(
          'median vs fresh mirror clone',
          'ms',
          o.median,
          c.median,
          'git clone --mirror',
          1,
        ),
      ],
      notes: [
        'Ours makes two remote calls (ls-remote, then a fetch of explicit refspecs) because the pipeline decides between them; a plain fetch does the ref advertisement inside one call.',
        "Ours reads the mirror's own refs from its ref files (no for-each-ref) and fetches with --no-auto-gc --no-show-forced-updates; the mirror gets `git maintenance run --auto` every 20th fetch instead.",
      ],
      raw: {
        ours,
        floors,
        fetches,
        clones,
        oursSummary: o,
        floorSummary: fl,
        fetchSummary: f,
        cloneSummary: c,
      },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await factory.close();
    await rm(root, { recursive: true, force: true });
  }
}
