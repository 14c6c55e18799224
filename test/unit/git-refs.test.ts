/** The pure decisions of a poll: parsing advertised refs, what to fetch, where a note may sit. */
import { describe, expect, it } from 'vitest';
import {
  notePathCandidates,
  parseRefLines,
  planFetch,
  sameRefs,
  storedRefIds,
  trackedRefNames,
} from '../../src/git/refs.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const names = trackedRefNames('main');

describe('parseRefLines', () => {
  it('keeps exactly the three refs and the peeled line of an annotated tag', () => {
    const text = [
      `${A}\trefs/heads/main`,
      `${D}\trefs/remotes/x/refs/heads/main`,
      `${B}\trefs/notes/signatures`,
      `${C}\trefs/tags/latest-signature`,
      `${D}\trefs/tags/latest-signature^{}`,
      '',
    ].join('\n');
    expect(parseRefLines(text, names)).toEqual({
      branch: A,
      notes: B,
      latestSignatureTag: C,
      latestSignatureCommit: D,
    });
  });

  it('a lightweight tag peels to itself; absent refs stay absent', () => {
    expect(parseRefLines(`${C}\trefs/tags/latest-signature\n`, names)).toEqual({
      latestSignatureTag: C,
      latestSignatureCommit: C,
    });
    expect(parseRefLines('', names)).toEqual({});
  });
});

describe('planFetch fetches exactly what moved', () => {
  it.each([
    ['nothing moved', { branch: A, notes: B }, { branch: A, notes: B }, [], []],
    [
      'first fetch',
      { branch: A, notes: B },
      {},
      ['+refs/heads/main:refs/heads/main', '+refs/notes/signatures:refs/notes/signatures'],
      [],
    ],
    [
      'only the branch moved',
      { branch: C, notes: B },
      { branch: A, notes: B },
      ['+refs/heads/main:refs/heads/main'],
      [],
    ],
    [
      'the tag appeared',
      { branch: A, latestSignatureTag: C },
      { branch: A },
      ['+refs/tags/latest-signature:refs/tags/latest-signature'],
      [],
    ],
    [
      'the notes were deleted remotely',
      { branch: A },
      { branch: A, notes: B },
      [],
      ['refs/notes/signatures'],
    ],
  ])('%s', (_name, remote, local, refspecs, deletions) => {
    expect(planFetch(remote, local, names)).toEqual({ refspecs, deletions });
  });
});

describe('sameRefs', () => {
  it('compares the three refs and ignores the peeled id', () => {
    expect(
      sameRefs(
        { branch: A, latestSignatureTag: C },
        { branch: A, latestSignatureTag: C, latestSignatureCommit: D },
      ),
    ).toBe(true);
    expect(sameRefs({ branch: A }, { branch: B })).toBe(false);
    expect(sameRefs({ branch: A }, { branch: A, notes: B })).toBe(false);
  });
});

describe('notePathCandidates', () => {
  it('lists flat first, then one byte of fan-out per level', () => {
    const id = '0123456789abcdef0123456789abcdef01234567';
    const paths = notePathCandidates(id);
    expect(paths[0]).toBe(id);
    expect(paths[1]).toBe(`01/${id.slice(2)}`);
    expect(paths[2]).toBe(`01/23/${id.slice(4)}`);
    expect(paths.every((p) => p.replace(/\//g, '') === id)).toBe(true);
    expect(paths).toHaveLength(19);
  });
});

describe('storedRefIds (the ref files of the mirror, read without a git process)', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const C = 'c'.repeat(40);
  const packed = `# pack-refs with: peeled fully-peeled sorted \n${A} refs/heads/main\n${B} refs/tags/latest-signature\n^${C}\n`;
  const wanted = ['refs/heads/main', 'refs/notes/signatures', 'refs/tags/latest-signature'];
  it.each([
    {
      name: 'packed refs only; peeled lines are skipped',
      loose: new Map<string, string | undefined>(),
      text: packed,
      want: [
        ['refs/heads/main', A],
        ['refs/tags/latest-signature', B],
      ],
    },
    {
      name: 'a loose ref wins over its packed line',
      loose: new Map([['refs/heads/main', `${C}\n`]]),
      text: packed,
      want: [
        ['refs/heads/main', C],
        ['refs/tags/latest-signature', B],
      ],
    },
    { name: 'nothing stored', loose: new Map<string, string | undefined>(), text: '', want: [] },
  ])('$name', ({ loose, text, want }) => {
    expect([...(storedRefIds(wanted, loose, text) ?? new Map()).entries()]).toEqual(want);
  });
  it('gives up (undefined) on a symbolic or torn loose ref, so git is asked instead', () => {
    expect(storedRefIds(wanted, new Map([['refs/heads/main', 'ref: refs/heads/x\n']]), '')).toBe(
      undefined,
    );
    expect(storedRefIds(wanted, new Map([['refs/heads/main', '']]), packed)).toBe(undefined);
  });
});
