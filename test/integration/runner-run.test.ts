/**
 * The Docker runner's `run` against the real engine and the local busybox+bao test image:
 * commands in order at /git, live output, exit codes, timeout, cancel, isolation settings, and
 * no container left behind in any outcome.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { createDockerRunner, MANAGED_LABEL } from '../../src/runner/docker.js';
import type { RunResult, RunSpec } from '../../src/runner/types.js';

const image = inject('testImage');
const SUITE_LABEL = 'flant-gitops.test-suite';
const suite = `runner-run-${randomUUID()}`;
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _enc, cb): void {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  }),
});
const runner = createDockerRunner({ logger });

let worktree: string;
let hostFiles: string;

/** Our containers (this file's label), running or not, as ids. */
function ourContainers(extra: Record<string, string> = {}): string[] {
  const filters = Object.entries({
    [MANAGED_LABEL]: 'true',
    [SUITE_LABEL]: suite,
    ...extra,
  }).flatMap(([k, v]) => ['--filter', `label=${k}=${v}`]);
  const out = execFileSync('docker', ['ps', '-aq', ...filters], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.length > 0);
}

/** A spec with test defaults; `case` labels the containers of one test. */
function spec(
  testCase: string,
  commands: string[],
  more: Partial<Omit<RunSpec, 'commands' | 'labels'>> = {},
): RunSpec & { output: () => string } {
  const chunks: string[] = [];
  return {
    image,
    commands,
    worktree,
    env: {},
    labels: { [SUITE_LABEL]: suite, 'flant-gitops.test-case': testCase },
    networkMode: 'none',
    timeoutMs: 60_000,
    onOutput: (c) => chunks.push(c),
    ...more,
    output: () => chunks.join(''),
  };
}

/** Start a run of `echo <marker>; sleep 30`; resolves once the marker arrived (run still going). */
function startLongRun(
  testCase: string,
  more: Partial<Omit<RunSpec, 'commands' | 'labels'>> = {},
): {
  result: Promise<RunResult>;
  started: Promise<void>;
  settled: () => boolean;
  abort: () => void;
} {
  const controller = new AbortController();
  let settled = false;
  let onStarted: () => void = () => undefined;
  let onEndedFirst: (e: Error) => void = () => undefined;
  const started = new Promise<void>((resolve, reject) => {
    onStarted = resolve;
    onEndedFirst = reject;
  });
  const result = runner
    .run({
      ...spec(testCase, ['echo running-marker; sleep 30'], more),
      signal: controller.signal,
      onOutput: (c) => {
        if (c.includes('running-marker')) onStarted();
      },
    })
    .finally(() => (settled = true));
  // A run that ends (or throws) before its marker must fail the test, not hang it.
  result.then(
    (r) => onEndedFirst(new Error(`run ended before its output: ${JSON.stringify(r)}`)),
    (e: unknown) => onEndedFirst(e instanceof Error ? e : new Error(String(e))),
  );
  return { result, started, settled: () => settled, abort: () => controller.abort() };
}

beforeAll(async () => {
  worktree = await mkdtemp(join(tmpdir(), 'fg-runner-wt-'));
  hostFiles = await mkdtemp(join(tmpdir(), 'fg-runner-files-'));
  await writeFile(join(worktree, 'README.md'), 'hello from the commit\n');
  await writeFile(join(hostFiles, 'ca.pem'), 'TEST-CA\n');
});

afterAll(async () => {
  const left = ourContainers();
  if (left.length > 0) execFileSync('docker', ['rm', '-f', ...left]);
  await rm(worktree, { recursive: true, force: true });
  await rm(hostFiles, { recursive: true, force: true });
  expect(left, 'no container with our labels may outlive the suite').toEqual([]);
});

describe('run', () => {
  it('passes env to the command, captures its output and exit code, and removes the container', async () => {
    const s = spec('env', ['echo "value=$GREETING"'], { env: { GREETING: 'hi-there' } });
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(s.output()).toBe('value=hi-there\n');
    expect(ourContainers({ 'flant-gitops.test-case': 'env' })).toEqual([]);
  });

  it('shows the worktree at /git as the working directory, and file changes carry to the next command', async () => {
    const s = spec('chain', [
      'pwd; cat README.md',
      'echo made-by-first > /git/produced.txt',
      'cat produced.txt',
    ]);
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(s.output()).toBe('/git\nhello from the commit\nmade-by-first\n');
    expect(await readFile(join(worktree, 'produced.txt'), 'utf8')).toBe('made-by-first\n');
  });

  it('stops at the first non-zero exit and reports its index and code', async () => {
    const s = spec('fail', ['echo one', 'echo two; exit 3', 'echo three-must-not-run']);
    expect(await runner.run(s)).toEqual({ outcome: 'failed', commandIndex: 1, exitCode: 3 });
    expect(s.output()).toBe('one\ntwo\n');
    expect(ourContainers({ 'flant-gitops.test-case': 'fail' })).toEqual([]);
  });

  it('captures both stdout and stderr', async () => {
    const s = spec('streams', ['echo to-stdout; echo to-stderr >&2']);
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(s.output()).toContain('to-stdout\n');
    expect(s.output()).toContain('to-stderr\n');
  });

  it('times out the whole run, kills the container and removes it', async () => {
    const s = spec('timeout', ['echo before', 'sleep 30', 'echo after'], {
      // Long enough for the first container to start and end on a loaded machine.
      timeoutMs: 8000,
    });
    expect(await runner.run(s)).toEqual({ outcome: 'timeout', commandIndex: 1 });
    expect(s.output()).toBe('before\n');
    expect(ourContainers({ 'flant-gitops.test-case': 'timeout' })).toEqual([]);
  });

  it('streams output live and cancels mid-run: killed, removed, reported as canceled', async () => {
    const run = startLongRun('cancel');
    try {
      await run.started;
      expect(run.settled(), 'output arrived while the command was still running').toBe(false);
      expect(ourContainers({ 'flant-gitops.test-case': 'cancel' })).toHaveLength(1);
    } finally {
      run.abort();
      await run.result.catch(() => undefined);
    }
    expect(await run.result).toEqual({ outcome: 'canceled', commandIndex: 0 });
    expect(ourContainers({ 'flant-gitops.test-case': 'cancel' })).toEqual([]);
  });

  it('reports canceled without creating a container when the signal is already aborted', async () => {
    const s = spec('pre-aborted', ['echo never'], { signal: AbortSignal.abort() });
    expect(await runner.run(s)).toEqual({ outcome: 'canceled', commandIndex: 0 });
    expect(s.output()).toBe('');
  });

  it('creates containers unprivileged, with no-new-privileges, limits, network mode and labels', async () => {
    const run = startLongRun('inspect', {
      memoryBytes: 64 * 1024 * 1024,
      nanoCpus: 500_000_000,
      env: { SECRET_TOKEN: 'only-in-the-container' },
    });
    await run.started;
    try {
      const [id] = ourContainers({ 'flant-gitops.test-case': 'inspect' });
      expect(id).toBeDefined();
      const [info] = JSON.parse(
        execFileSync('docker', ['inspect', String(id)], { encoding: 'utf8' }),
      ) as [
        {
          Config: { WorkingDir: string; Labels: Record<string, string>; Tty: boolean };
          HostConfig: {
            Privileged: boolean;
            SecurityOpt: string[];
            Memory: number;
            NanoCpus: number;
            NetworkMode: string;
            AutoRemove: boolean;
          };
        },
      ];
      expect(info.HostConfig).toMatchObject({
        Privileged: false,
        Memory: 64 * 1024 * 1024,
        NanoCpus: 500_000_000,
        NetworkMode: 'none',
        AutoRemove: false,
      });
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(info.Config).toMatchObject({ WorkingDir: '/git', Tty: false });
      expect(info.Config.Labels).toMatchObject({ [MANAGED_LABEL]: 'true', [SUITE_LABEL]: suite });
    } finally {
      // Let the run tear its container down even when an assertion above failed.
      run.abort();
      await run.result.catch(() => undefined);
    }
    expect(await run.result).toEqual({ outcome: 'canceled', commandIndex: 0 });
  });

  it('applies the memory limit inside the container', async () => {
    const s = spec(
      'memory',
      [
        'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
      ],
      { memoryBytes: 64 * 1024 * 1024 },
    );
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(s.output().trim()).toBe(String(64 * 1024 * 1024));
  });

  it('runs as the configured user', async () => {
    const s = spec('user', ['id -u'], { user: '65534' });
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(s.output()).toBe('65534\n');
  });

  it('mounts extra files read-only', async () => {
    const files = { '/etc/flant/ca.pem': join(hostFiles, 'ca.pem') };
    const read = spec('files-read', ['cat /etc/flant/ca.pem'], { files });
    expect(await runner.run(read)).toEqual({ outcome: 'succeeded' });
    expect(read.output()).toBe('TEST-CA\n');

    const write = spec('files-write', ['echo tampered > /etc/flant/ca.pem'], { files });
    const result = await runner.run(write);
    expect(result).toMatchObject({ outcome: 'failed', commandIndex: 0 });
    expect(write.output()).toMatch(/read-only/i);
    expect(await readFile(join(hostFiles, 'ca.pem'), 'utf8')).toBe('TEST-CA\n');
  });

  it('never writes environment values (secrets) to the logs', async () => {
    const secret = `s3cr3t-${randomUUID()}`;
    const s = spec('no-secret-logs', ['test -n "$VAULT_REQUEST_TOKEN_X"'], {
      env: { VAULT_REQUEST_TOKEN_X: secret },
    });
    expect(await runner.run(s)).toEqual({ outcome: 'succeeded' });
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(secret);
  });

  it('fails with RUNNER_FAILED when the image is not present', async () => {
    const s = spec('no-image', ['true'], { image: `sha256:${'0'.repeat(64)}` });
    await expect(runner.run(s)).rejects.toMatchObject({
      code: 'RUNNER_FAILED',
      reason: expect.stringMatching(/create the container: .*no such image/i),
    });
  });
});
