/**
 * The Docker runner's engine-facing operations against the real engine: ping, ensureImage
 * (present id, absent id, a pull that can only reach a closed loopback port), sweep of leftover
 * containers, and a clear error when the engine is not there.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import { createDockerRunner, MANAGED_LABEL } from '../../src/runner/docker.js';
import type { ContainerRunner } from '../../src/runner/types.js';

const image = inject('testImage');
const SUITE_LABEL = 'flant-gitops.test-suite';
const suite = `runner-engine-${randomUUID()}`;
const runner = createDockerRunner({ logger: silentLogger() });
const ABSENT_DIGEST = `sha256:${'ab'.repeat(32)}`;

let scratch: string;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Containers of this file (any state), optionally only those that also carry our managed label. */
function suiteContainers(managedOnly: boolean): string[] {
  const filters = ['--filter', `label=${SUITE_LABEL}=${suite}`];
  if (managedOnly) filters.push('--filter', `label=${MANAGED_LABEL}=true`);
  return docker('ps', '-aq', ...filters)
    .split('\n')
    .filter((l) => l.length > 0);
}

/** `docker create` a stopped container with our suite label (and the managed label if asked). */
function createLeftover(managed: boolean, extraLabel: string): string {
  const labels = [`${SUITE_LABEL}=${suite}`, `flant-gitops.mount=${extraLabel}`];
  if (managed) labels.push(`${MANAGED_LABEL}=true`);
  return docker(
    'create',
    '--network',
    'none',
    ...labels.flatMap((l) => ['--label', l]),
    image,
    '/bin/sh',
    '-c',
    'true',
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fg-runner-engine-'));
});

afterAll(async () => {
  const left = suiteContainers(false);
  if (left.length > 0) docker('rm', '-f', ...left);
  await rm(scratch, { recursive: true, force: true });
  expect(left, 'no container of this suite may outlive it').toEqual([]);
});

describe('ping', () => {
  it('answers when the engine runs', async () => {
    await expect(runner.ping()).resolves.toBeUndefined();
  });
});

describe('ensureImage', () => {
  it('is a no-op for a local image id that is present', async () => {
    await expect(runner.ensureImage(image)).resolves.toBeUndefined();
    expect(docker('image', 'inspect', '--format', '{{.Id}}', image)).toBe(image);
  });

  it('fails clearly for an absent local image id (nothing to pull it from)', async () => {
    await expect(runner.ensureImage(ABSENT_DIGEST)).rejects.toMatchObject({
      code: 'RUNNER_FAILED',
      reason: `image ${ABSENT_DIGEST} is not present and could not be pulled: a local image id (sha256:…) names no registry to pull from`,
    });
  });

  it('tries to pull an absent pinned reference by digest and fails clearly when no registry answers', async () => {
    // Port 1 on loopback is closed: the engine's pull attempt never leaves this machine.
    const ref = `127.0.0.1:1/none@${ABSENT_DIGEST}`;
    const err: unknown = await runner.ensureImage(ref).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'RUNNER_FAILED' });
    const reason = (err as { reason: string }).reason;
    expect(reason).toMatch(
      new RegExp(
        `^image ${ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not present and could not be pulled: `,
      ),
    );
    expect(reason).toMatch(/127\.0\.0\.1:1/);
    expect(reason).toMatch(/connection refused/i);
  });

  it.each([
    ['a mutable tag', 'busybox:latest'],
    ['a bare name', 'busybox'],
    ['a short digest', 'busybox@sha256:abc'],
  ])('refuses %s before asking the engine', async (_name, ref) => {
    await expect(runner.ensureImage(ref)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('sweep', () => {
  it('removes leftover managed containers carrying the labels, and returns how many', async () => {
    const mount = randomUUID();
    createLeftover(true, mount);
    createLeftover(true, mount);
    expect(suiteContainers(true)).toHaveLength(2);
    expect(await runner.sweep({ 'flant-gitops.mount': mount })).toBe(2);
    expect(suiteContainers(true)).toEqual([]);
    expect(await runner.sweep({ 'flant-gitops.mount': mount })).toBe(0);
  });

  it("sweeps several label sets with one listing: each set's containers go, others stay", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    createLeftover(true, a);
    createLeftover(true, b);
    createLeftover(true, b);
    const kept = createLeftover(true, c);
    expect(suiteContainers(true)).toHaveLength(4);
    const sets = [a, b].map((m) => ({ [SUITE_LABEL]: suite, 'flant-gitops.mount': m }));
    expect(await runner.sweep(sets)).toBe(3);
    expect(suiteContainers(true)).toEqual([kept.slice(0, 12)]);
    expect(await runner.sweep([])).toBe(0);
    expect(await runner.sweep({ 'flant-gitops.mount': c })).toBe(1);
  });

  it('leaves containers that lack our managed label alone, even when the other labels match', async () => {
    const mount = randomUUID();
    const foreign = createLeftover(false, mount);
    try {
      expect(await runner.sweep({ 'flant-gitops.mount': mount })).toBe(0);
      expect(suiteContainers(false)).toContain(foreign.slice(0, 12));
    } finally {
      docker('rm', '-f', foreign);
    }
  });
});

describe('engine not reachable', () => {
  const socket = () => join(scratch, 'no-such-docker.sock');
  const operations: [string, (r: ContainerRunner) => Promise<unknown>][] = [
    ['ping', (r) => r.ping()],
    ['ensureImage', (r) => r.ensureImage(image)],
    ['sweep', (r) => r.sweep({ 'flant-gitops.mount': 'x' })],
    [
      'run',
      (r) =>
        r.run({
          image,
          commands: ['true'],
          worktree: scratch,
          env: {},
          labels: {},
          networkMode: 'none',
          timeoutMs: 10_000,
          onOutput: () => undefined,
        }),
    ],
  ];
  it.each(operations)('%s fails with RUNNER_FAILED naming the socket', async (_name, op) => {
    const down = createDockerRunner({ logger: silentLogger(), socketPath: socket() });
    await expect(op(down)).rejects.toMatchObject({
      code: 'RUNNER_FAILED',
      reason: expect.stringContaining(`Docker engine not reachable at ${socket()}`),
    });
  });
});
