/**
 * The real service image on the bench: built by scripts/build-images.sh with the project's
 * Dockerfile unchanged, on a local stand-in for node:24-bookworm-slim (the bench reaches no
 * registry), and a local OpenBao image made of the bench's `bao`. Plus the few `docker` calls the
 * image and compose tests make. Builds are cached by their inputs, so only the first test file
 * of a run (on a fresh machine) pays for them; the others wait on the script's lock.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './bench.js';
import { waitFor } from './net.js';

/** What scripts/build-images.sh made. */
export interface BuiltImages {
  /** The stand-in base passed as NODE_IMAGE. */
  readonly nodeImage: string;
  /** The local OpenBao image (busybox + the bench's bao). */
  readonly openbaoImage: string;
  /** The service image's tag and id. */
  readonly image: string;
  readonly imageId: string;
  readonly imageBytes: number;
  readonly buildSeconds: number;
}

/** A finished command: exit code and output. Never rejects on a non-zero exit. */
export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Run `cmd args` (cwd: the repository) and collect its output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveP({ code: code ?? -1, out, err }));
  });
}

/** Like run, but throws (with the output) unless the command exits 0; returns stdout trimmed. */
export async function must(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${r.code}:\n${r.err}${r.out}`);
  }
  return r.out.trim();
}

/**
 * Build (or find cached) the stand-in base, the OpenBao image and the service image tagged
 * `tag`. Fails, with the build's last lines, when the Dockerfile does not build.
 */
export async function buildImages(tag = 'flant-gitops:local'): Promise<BuiltImages> {
  const out = await must('bash', [join(ROOT, 'scripts/build-images.sh'), '--tag', tag], {
    timeoutMs: 25 * 60_000,
  });
  const kv = new Map(
    out
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? '', m[2] ?? '']),
  );
  const get = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined || v === '') throw new Error(`build-images.sh printed no ${k}:\n${out}`);
    return v;
  };
  return {
    nodeImage: get('NODE_IMAGE'),
    openbaoImage: get('OPENBAO_IMAGE'),
    image: get('IMAGE'),
    imageId: get('IMAGE_ID'),
    imageBytes: Number(get('IMAGE_BYTES')),
    buildSeconds: Number(get('BUILD_SECONDS')),
  };
}

/** `docker inspect -f FORMAT name`, trimmed ('' when the object is gone). */
export async function inspect(name: string, format: string): Promise<string> {
  const r = await run('docker', ['inspect', '-f', format, name]);
  return r.code === 0 ? r.out.trim() : '';
}

/** Wait until the container's health status is `want`; the error shows its last health log. */
export async function waitForHealth(
  container: string,
  want: 'healthy' | 'unhealthy',
  timeoutMs = 90_000,
): Promise<void> {
  try {
    await waitFor(
      `container ${container} to be ${want}`,
      async () => (await inspect(container, '{{.State.Health.Status}}')) === want,
      timeoutMs,
      500,
    );
  } catch (e) {
    const health = await inspect(container, '{{json .State.Health}}');
    const logs = await run('docker', ['logs', '--tail', '30', container]);
    throw new Error(`${(e as Error).message}\nhealth: ${health}\nlogs:\n${logs.out}${logs.err}`, {
      cause: e,
    });
  }
}

/** Remove containers by name or id, ignoring those already gone. */
export async function removeContainers(...names: string[]): Promise<void> {
  if (names.length > 0) await run('docker', ['rm', '-f', '-v', ...names]);
}
