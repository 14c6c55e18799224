/**
 * The pure parts of issue 19's bounds: signature notes (size and line count), failure reasons,
 * log values, and the local repository roots — each case a pusher or a caller controls.
 */
import { mkdtemp, mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOG_VALUE_MAX_CHARS,
  NOTE_MAX_BYTES,
  NOTE_MAX_LINES,
  REASON_MAX_CHARS,
  nestingDepth,
  truncateText,
} from '../../src/config/limits.js';
import { createLocalRepoPolicy } from '../../src/config/local-repos.js';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { insufficientReason } from '../../src/pipeline/signature-reason.js';
import { noteSignatureLines } from '../../src/pipeline/signature-sources.js';
import { taskOutcomeOf } from '../../src/pipeline/summarise.js';
import { readLocalRepoRoots } from '../../src/plugin/plugin-settings.js';

describe('signature notes are bounded', () => {
  it(`examines at most ${NOTE_MAX_LINES} distinct lines and says how many more were left out`, () => {
    const note = Array.from({ length: 115_577 }, (_, i) => `junk${i}`).join('\n');
    const { signatures, malformed } = noteSignatureLines([note]);
    expect(signatures.length + malformed.length).toBe(NOTE_MAX_LINES + 1);
    expect(malformed.at(-1)).toEqual({
      detail: `${115_577 - NOTE_MAX_LINES} more note line(s) left out: at most ${NOTE_MAX_LINES} are read`,
    });
  });

  it('counts the bound across both sources', () => {
    const a = Array.from({ length: 80 }, (_, i) => `AAA${i}`).join('\n');
    const b = Array.from({ length: 80 }, (_, i) => `BBB${i}`).join('\n');
    const { malformed } = noteSignatureLines([a, b]);
    expect(malformed.at(-1)?.detail).toBe('60 more note line(s) left out: at most 100 are read');
  });

  it('an oversized note (measured by the git adapter, never read) is one entry', () => {
    const { signatures, malformed } = noteSignatureLines([{ oversizedBytes: 31_457_280 }]);
    expect(signatures).toEqual([]);
    expect(malformed).toEqual([
      {
        detail: `a note of 31457280 bytes is over the ${NOTE_MAX_BYTES}-byte limit and was not read`,
      },
    ]);
  });
});

describe('reasons are bounded with a count of what was left out', () => {
  const rejected = Array.from({ length: 5_000 }, (_, i) => ({
    source: 'note' as const,
    index: i + 1,
    reason: 'malformed',
    detail: `note line ${i + 1} is not base64 ${'x'.repeat(1000)}`,
  }));

  it('the signature reason', () => {
    const reason = insufficientReason({
      commitId: 'a'.repeat(40),
      required: 1,
      signers: [],
      rejected,
      trustedCount: 0,
      unusable: [],
    });
    expect(reason.length).toBeLessThanOrEqual(REASON_MAX_CHARS + 60);
    expect(reason).toMatch(/… \(\d+ more characters left out\)$/);
    // Each rejection's detail is cut too, so one long detail cannot fill the reason alone.
    expect(reason).toContain('x'.repeat(200));
    expect(reason).not.toContain('x'.repeat(400));
  });

  it('the task and poll reason of any failure', () => {
    const outcome = taskOutcomeOf({
      kind: 'failed',
      error: new AppError('GIT_FAILED', 'y'.repeat(7_000_000)),
      state: { tip: 'b'.repeat(40) },
    } as unknown as Parameters<typeof taskOutcomeOf>[0]);
    expect(outcome.reason).toBe(truncateText('y'.repeat(7_000_000), REASON_MAX_CHARS));
    expect(outcome.reason).toMatch(/… \(6995904 more characters left out\)$/);
  });
});

describe('log values are bounded', () => {
  it('a 7 MB field becomes a line of a few KiB that says how much was left out', () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    });
    logger.warn({ reason: 'z'.repeat(7_000_000), nested: { detail: 'w'.repeat(10_000) } }, 'x');
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(line.length).toBeLessThan(3 * LOG_VALUE_MAX_CHARS);
    expect(line).toContain(`(${7_000_000 - LOG_VALUE_MAX_CHARS} more characters left out)`);
    expect(line).toContain(`(${10_000 - LOG_VALUE_MAX_CHARS} more characters left out)`);
  });
});

describe('nesting depth', () => {
  it('counts objects and arrays and stops past the limit', () => {
    expect(nestingDepth(1, 5)).toBe(0);
    expect(nestingDepth({ a: [{ b: 1 }] }, 5)).toBe(3);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(nestingDepth(deep, 32)).toBe(33);
  });
});

describe('local repository roots', () => {
  let base: string;
  let roots: string;
  let dataDir: string;
  let elsewhere: string;

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'fg-roots-unit-'));
    roots = join(base, 'repos');
    dataDir = join(base, 'data');
    elsewhere = join(base, 'elsewhere');
    for (const d of [roots, dataDir, elsewhere, join(roots, 'inner.git')]) {
      await mkdir(d, { recursive: true });
    }
    await symlink(elsewhere, join(roots, 'link'));
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it.each([
    ['https://git.example.com/a.git', undefined],
    ['git@example.com:a.git', undefined],
    ['<roots>/inner.git', undefined],
    ['file://<roots>/inner.git', undefined],
    ['<roots>/not-yet-made.git', undefined],
    [
      '<roots>/../elsewhere',
      /must be inside an approved local repository root \(--local-repo-root/,
    ],
    ['<roots>/link/x.git', /must be inside an approved local repository root/],
    ['file://<data>/mirrors/m3/0123', /must not be inside the service data directory/],
    ['/etc', /must be inside an approved local repository root/],
  ])('%s', async (url, expected) => {
    const policy = createLocalRepoPolicy({ roots: [roots, dataDir], dataDir });
    const rule = await policy.check(url.replace('<roots>', roots).replace('<data>', dataDir));
    if (expected === undefined) expect(rule).toBeUndefined();
    else expect(rule).toMatch(expected);
  });

  it('without roots every local path and file:// URL is refused, naming the flag', async () => {
    const policy = createLocalRepoPolicy({ roots: [], dataDir });
    for (const url of [`${roots}/inner.git`, `file://${roots}/inner.git`]) {
      expect(await policy.check(url)).toBe(
        'must not be a local path or file:// URL: no local repository root is approved ' +
          '(--local-repo-root / FLANT_GITOPS_LOCAL_REPO_ROOTS)',
      );
    }
  });

  it('the service refuses a root inside its data dir, naming the flag', () => {
    expect(() =>
      loadServiceConfig(['--data-dir', dataDir, '--local-repo-root', join(dataDir, 'r')], {}),
    ).toThrow(
      /--local-repo-root \/ FLANT_GITOPS_LOCAL_REPO_ROOTS \[0\]: must not be the data directory or inside it/,
    );
  });

  it('the plugin reads its roots from its args, else the environment', () => {
    expect(
      readLocalRepoRoots(
        ['--local-repo-root=/srv/a', '--local-repo-root', '/srv/b'],
        { FLANT_GITOPS_LOCAL_REPO_ROOTS: '/srv/c' },
        '/var/lib/fg',
      ),
    ).toEqual(['/srv/a', '/srv/b']);
    expect(
      readLocalRepoRoots([], { FLANT_GITOPS_LOCAL_REPO_ROOTS: '/srv/c, /srv/d' }, '/var/lib/fg'),
    ).toEqual(['/srv/c', '/srv/d']);
    expect(() =>
      readLocalRepoRoots(['--local-repo-root=/var/lib/fg/x'], {}, '/var/lib/fg'),
    ).toThrow(/local-repo-root.*must not be the data directory or inside it/);
    expect(() => readLocalRepoRoots(['--local-repo-root=rel'], {}, '/var/lib/fg')).toThrow(
      /rel: must be an absolute path/,
    );
  });
});
