/**
 * The command container is locked down by default — every capability dropped (CapEff 0, so
 * `mknod` fails), no-new-privileges, a read-only image filesystem with a writable /tmp, pids
 * and memory limits — and a mount that loosens one setting gets exactly what it asked for.
 * Real Docker engine, the busybox test image, the same mapping from settings the pipeline uses.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ContainerSettings } from '../../src/config/settings-schemas.js';
import { createLogger } from '../../src/logging.js';
import { containerLimits } from '../../src/pipeline/steps-run.js';
import { createDockerRunner, MANAGED_LABEL } from '../../src/runner/docker.js';

const image = inject('testImage');
const SUITE_LABEL = 'flant-gitops.test-suite';
const suite = `runner-lockdown-${randomUUID()}`;
const runner = createDockerRunner({ logger: createLogger({ level: 'silent' }) });
let worktree: string;

/** Run `script` under the mount settings `settings` (as written to configure/container). */
async function runWith(
  settings: Record<string, unknown>,
  script: string,
): Promise<{ ok: boolean; out: string }> {
  const chunks: string[] = [];
  const result = await runner.run({
    image,
    commands: [script],
    worktree,
    env: {},
    labels: { [SUITE_LABEL]: suite },
    networkMode: 'none',
    timeoutMs: 60_000,
    onOutput: (c) => chunks.push(c),
    ...containerLimits(ContainerSettings.parse(settings)),
  });
  return { ok: result.outcome === 'succeeded', out: chunks.join('') };
}

/** Prints the pids and memory limits of the container (cgroup v2, else v1). */
const LIMITS =
  'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max; ' +
  'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes';

const capEff = (out: string): string | undefined => /^CapEff:\s*([0-9a-f]+)$/m.exec(out)?.[1];

/** The CapEff mask of exactly these capability numbers. */
const mask = (...bits: number[]): string =>
  bits
    .reduce((m, b) => m | (1n << BigInt(b)), 0n)
    .toString(16)
    .padStart(16, '0');

beforeAll(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'fg-lockdown-wt-'));
});

afterAll(async () => {
  const left = execFileSync(
    'docker',
    [
      'ps',
      '-aq',
      '--filter',
      `label=${MANAGED_LABEL}=true`,
      '--filter',
      `label=${SUITE_LABEL}=${suite}`,
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
  if (left.length > 0) execFileSync('docker', ['rm', '-f', ...left]);
  await rm(worktree, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('a default run', () => {
  it('has no effective capability, and mknod fails', async () => {
    const r = await runWith(
      {},
      'cat /proc/self/status; mknod /git/null-dev c 1 3 && echo MKNOD-OK || echo MKNOD-FAILED',
    );
    expect(r.ok).toBe(true);
    expect(capEff(r.out)).toBe(mask());
    expect(r.out).toMatch(/^NoNewPrivs:\s*1$/m);
    expect(r.out).toContain('MKNOD-FAILED');
    expect(r.out).not.toContain('MKNOD-OK');
  });

  it("runs as the service's own uid:gid, which can write the exported /git", async () => {
    const r = await runWith({}, 'id -u; id -g; echo out > /git/written && cat /git/written');
    expect(r.ok).toBe(true);
    expect(r.out).toBe(`${process.getuid?.()}\n${process.getgid?.()}\nout\n`);
  });

  it('has a read-only image filesystem and a writable /tmp', async () => {
    const r = await runWith(
      {},
      'touch /etc/x 2>/dev/null && echo ROOT-WRITABLE || echo ROOT-READONLY; echo t > /tmp/t && cat /tmp/t',
    );
    expect(r.out).toBe('ROOT-READONLY\nt\n');
  });

  it('is bounded in processes and memory', async () => {
    const r = await runWith({}, LIMITS);
    expect(r.ok).toBe(true);
    expect(r.out).toBe(`512\n${1024 ** 3}\n`);
  });
});

describe('a mount that loosens a setting', () => {
  it('gets exactly the capability it added (MKNOD), and mknod works', async () => {
    const r = await runWith(
      { user: '0:0', cap_add: 'mknod' },
      'grep CapEff /proc/self/status; mknod /git/null-dev c 1 3 && echo MKNOD-OK; rm -f /git/null-dev',
    );
    expect(capEff(r.out)).toBe(mask(27));
    expect(r.out).toContain('MKNOD-OK');
  });

  it('gets exactly the two capabilities it added (CHOWN, NET_BIND_SERVICE)', async () => {
    const r = await runWith(
      { user: '0:0', cap_add: 'CAP_CHOWN,NET_BIND_SERVICE' },
      'grep CapEff /proc/self/status',
    );
    expect(capEff(r.out)).toBe(mask(0, 10));
  });

  it('gets a writable image filesystem when it turns read_only_root_fs off', async () => {
    const r = await runWith(
      { user: '0:0', read_only_root_fs: false },
      'touch /etc/x && echo ROOT-WRITABLE',
    );
    expect(r.out).toBe('ROOT-WRITABLE\n');
  });

  it('runs as the user it names, with the limits it sets (0 = none)', async () => {
    const r = await runWith(
      { user: '65534:65534', pids_limit: 0, memory_limit: '64m', tmp_size: '2m' },
      `id -u; id -g; ${LIMITS}; df -k /tmp | tail -1`,
    );
    const [uid, gid, pids, mem, df] = r.out.trim().split('\n');
    expect([uid, gid, pids, mem]).toEqual(['65534', '65534', 'max', String(64 * 1024 * 1024)]);
    expect(df?.split(/\s+/)[1]).toBe('2048');
  });
});
