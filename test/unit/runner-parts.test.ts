/**
 * Pure parts of the runner: image references, output demultiplexing, engine error wording and
 * spec validation (which happens before any engine call, so no Docker is needed here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import { createDockerRunner } from '../../src/runner/docker.js';
import { engineError } from '../../src/runner/engine-errors.js';
import { parseImageRef, repoDigestsMatch } from '../../src/runner/image-ref.js';
import { createOutputDemuxer, type OutputStream } from '../../src/runner/output.js';
import type { RunSpec } from '../../src/runner/types.js';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef', () => {
  it.each([
    [D, { kind: 'id', id: D }],
    [`busybox@${D}`, { kind: 'digest', repository: 'busybox', tag: undefined, digest: D }],
    [`busybox:1.36@${D}`, { kind: 'digest', repository: 'busybox', tag: '1.36', digest: D }],
    [
      `127.0.0.1:5000/team/app:v1@${D}`,
      { kind: 'digest', repository: '127.0.0.1:5000/team/app', tag: 'v1', digest: D },
    ],
    [
      `registry.example.org:443/app@${D}`,
      { kind: 'digest', repository: 'registry.example.org:443/app', tag: undefined, digest: D },
    ],
  ])('accepts the pinned reference %s', (input, expected) => {
    expect(parseImageRef(input)).toEqual(expected);
  });

  it.each([
    ['a bare name', 'busybox'],
    ['a tag only', 'busybox:latest'],
    ['a registry port without digest', '127.0.0.1:5000/app'],
    ['a short digest', 'busybox@sha256:abc'],
    ['an upper-case digest', `busybox@${D.toUpperCase()}`],
    ['another algorithm', `busybox@sha512:${'a'.repeat(64)}`],
    ['an upper-case repository', `BusyBox@${D}`],
    ['an empty repository', `@${D}`],
    ['a short image id', 'sha256:abc'],
  ])('refuses %s with INVALID_INPUT', (_name, input) => {
    expect(() => parseImageRef(input)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('repoDigestsMatch', () => {
  const ref = (image: string) => {
    const r = parseImageRef(image);
    if (r.kind !== 'digest') throw new Error('test expects a digest reference');
    return r;
  };
  it.each([
    ['the same short Docker Hub name', `busybox@${D}`, [`busybox@${D}`], true],
    ['a fully qualified Docker Hub name', `docker.io/library/busybox@${D}`, [`busybox@${D}`], true],
    ['a private registry name', `127.0.0.1:5000/app:v1@${D}`, [`127.0.0.1:5000/app@${D}`], true],
    ['another repository with that digest', `other@${D}`, [`busybox@${D}`], false],
    ['no repo digests at all', `busybox@${D}`, [], false],
  ])('%s → %s', (_name, image, digests, expected) => {
    expect(repoDigestsMatch(ref(image), digests)).toBe(expected);
  });
});

/** Encode frames the way the engine does: [type,0,0,0,len32be] + payload. */
function frame(stream: OutputStream, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('createOutputDemuxer', () => {
  it('splits stdout and stderr frames, in order', () => {
    const got: [string, OutputStream][] = [];
    const d = createOutputDemuxer((t, s) => got.push([t, s]));
    d.push(Buffer.concat([frame('stdout', 'out 1\n'), frame('stderr', 'err 1\n')]));
    d.end();
    expect(got).toEqual([
      ['out 1\n', 'stdout'],
      ['err 1\n', 'stderr'],
    ]);
  });

  it('reassembles frames and UTF-8 characters split at any byte boundary', () => {
    const frames = fc.array(
      fc.tuple(fc.constantFrom<OutputStream>('stdout', 'stderr'), fc.string({ unit: 'grapheme' })),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 8 }), (fs, cuts) => {
        const bytes = Buffer.concat(fs.map(([s, t]) => frame(s, t)));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const got: Record<OutputStream, string> = { stdout: '', stderr: '' };
        const d = createOutputDemuxer((t, s) => (got[s] += t));
        let at = 0;
        for (const p of [...points, bytes.length]) {
          d.push(bytes.subarray(at, p));
          at = p;
        }
        d.end();
        const want = (which: OutputStream) =>
          fs
            .filter(([s]) => s === which)
            .map(([, t]) => t)
            .join('');
        expect(got).toEqual({ stdout: want('stdout'), stderr: want('stderr') });
      }),
    );
  });
});

describe('engineError', () => {
  it.each([
    ['ENOENT', 'Docker engine not reachable at /x.sock (ENOENT) while trying to answer a ping'],
    [
      'ECONNREFUSED',
      'Docker engine not reachable at /x.sock (ECONNREFUSED) while trying to answer a ping',
    ],
  ])('says "not reachable" for a socket error %s', (code, reason) => {
    const e = Object.assign(new Error(`connect ${code}`), { code });
    expect(engineError(e, 'answer a ping', '/x.sock')).toMatchObject({
      code: 'RUNNER_FAILED',
      reason,
    });
  });

  it('quotes the engine message for an HTTP error', () => {
    const e = Object.assign(new Error('(HTTP code 404) no such container'), {
      statusCode: 404,
      json: { message: 'No such image: sha256:00' },
    });
    expect(engineError(e, 'create the container', '/x.sock')).toMatchObject({
      code: 'RUNNER_FAILED',
      reason: 'Docker engine failed to create the container: No such image: sha256:00',
      details: { endpoint: '/x.sock', status: 404 },
    });
  });
});

describe('run refuses a bad spec before contacting the engine', () => {
  // The socket does not exist: reaching the engine would be RUNNER_FAILED, not INVALID_INPUT.
  const runner = createDockerRunner({
    logger: silentLogger(),
    socketPath: '/nonexistent/docker.sock',
  });
  const good: RunSpec = {
    image: D,
    commands: ['true'],
    worktree: '/tmp/wt',
    env: {},
    labels: {},
    networkMode: 'none',
    timeoutMs: 1000,
    onOutput: () => undefined,
  };
  it.each<[string, Partial<RunSpec>]>([
    ['a mutable image', { image: 'busybox:latest' }],
    ['a relative worktree', { worktree: 'wt' }],
    ['an env name with "="', { env: { 'A=B': 'x' } }],
    ['an env name with a dot', { env: { 'VAULT_REQUEST_TOKEN_A.B': 'x' } }],
    ['a relative file target', { files: { 'etc/ca.pem': '/tmp/ca.pem' } }],
    ['a relative file source', { files: { '/etc/ca.pem': 'ca.pem' } }],
    ['a zero timeout', { timeoutMs: 0 }],
  ])('%s', async (_name, patch) => {
    await expect(runner.run({ ...good, ...patch })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('never puts an env value into the error', async () => {
    const err = await runner
      .run({ ...good, env: { 'BAD NAME': 'secret-value' } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT' });
    expect(String((err as Error).message)).not.toContain('secret-value');
  });
});
