/**
 * The git adapter against a real bare "origin" over file://: one ls-remote per poll, incremental
 * fetch of the refs that moved, no fetch when nothing moved, force-push detection, byte-exact
 * commits, signature notes (flat, fanned out, through both kinds of latest-signature tag) and
 * tree export.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { SimpleGitMirrorFactory, sameRefs, type GitMirror } from '../../src/git/index.js';
import {
  appendSignatureNote,
  commitFiles,
  git,
  gitBytes,
  initBare,
  initWork,
  push,
  removeDir,
  revParse,
  tagLatestSignature,
  tempDir,
  writeNotesTree,
} from '../helpers/git-cli.js';

let root: string;
let origin: string;
let work: string;
let scratch: string;
let mirror: GitMirror;
const c: Record<'c1' | 'c2' | 'c3', string> = { c1: '', c2: '', c3: '' };

async function looseObjects(dir: string): Promise<number> {
  const out = await git(dir, ['count-objects', '-v']);
  return Number(/^count: (\d+)$/m.exec(out)?.[1] ?? NaN);
}

/** One poll as the pipeline does it: ls-remote, then fetch only when something moved. */
async function poll(): Promise<boolean> {
  const remote = await mirror.lsRemote();
  if (sameRefs(remote, await mirror.localRefs())) return false;
  await mirror.fetch(remote);
  return true;
}

beforeAll(async () => {
  root = tempDir('git-file');
  scratch = join(root, 'scratch');
  mkdirSync(scratch);
  origin = await initBare(root);
  work = await initWork(root, origin);
  c.c1 = await commitFiles(
    work,
    {
      'README.md': 'hello\n',
      'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
      'deep/dir/file.txt': 'deep\n',
    },
    'first',
  );
  await push(work, 'main');
  const factory = new SimpleGitMirrorFactory({ timeoutMs: 30_000, tmpDir: scratch });
  mirror = await factory.open(join(root, 'mirror'), {
    url: `file://${origin}`,
    branch: 'main',
    auth: { kind: 'none' },
  });
});

afterAll(() => {
  if (root) removeDir(root);
});

describe('git mirror over file://', () => {
  it('ls-remote reports the branch tip and no notes or tag, without fetching', async () => {
    const refs = await mirror.lsRemote();
    expect(refs).toEqual({ branch: c.c1 });
    expect(mirror.counters).toEqual({ lsRemote: 1, fetch: 0 });
    expect(await mirror.localRefs()).toEqual({});
  });

  it('the first fetch brings the branch into the bare mirror', async () => {
    expect(await poll()).toBe(true);
    expect(mirror.counters.fetch).toBe(1);
    expect(await mirror.localRefs()).toEqual({ branch: c.c1 });
    expect(existsSync(join(root, 'mirror', 'HEAD'))).toBe(true);
  });

  it('readCommit returns exactly the bytes of `git cat-file commit`', async () => {
    const expected = await gitBytes(origin, ['cat-file', 'commit', c.c1]);
    const got = await mirror.readCommit(c.c1);
    expect(Buffer.from(got).equals(expected)).toBe(true);
  });

  it('a new commit is fetched incrementally: only its new objects arrive', async () => {
    c.c2 = await commitFiles(work, { 'README.md': 'hello again\n' }, 'second');
    await push(work, 'main');
    const expectedNew = (await git(origin, ['rev-list', '--objects', `${c.c1}..${c.c2}`]))
      .trim()
      .split('\n').length;
    const before = await looseObjects(join(root, 'mirror'));
    expect(await poll()).toBe(true);
    expect(await looseObjects(join(root, 'mirror'))).toBe(before + expectedNew);
    expect(mirror.counters.fetch).toBe(2);
    expect(await mirror.isAncestor(c.c1, c.c2)).toBe(true);
  });

  it('a poll with no change does one ls-remote and no fetch', async () => {
    const before = mirror.counters;
    expect(await poll()).toBe(false);
    await mirror.fetch(await mirror.localRefs()); // fetch itself is a no-op too
    expect(mirror.counters).toEqual({ lsRemote: before.lsRemote + 1, fetch: before.fetch });
  });

  it('a force-push is seen as "old tip is not an ancestor of the new tip"', async () => {
    await git(work, ['reset', '--quiet', '--hard', c.c1]);
    c.c3 = await commitFiles(work, { 'other.txt': 'x\n' }, 'rewritten');
    await push(work, 'main');
    expect(await poll()).toBe(true);
    expect(await mirror.isAncestor(c.c2, c.c3)).toBe(false);
    expect(await mirror.isAncestor(c.c1, c.c3)).toBe(true);
    expect(await mirror.isAncestor(c.c3, c.c3)).toBe(true);
  });

  it('isAncestor on an object the mirror does not have is an error, not "false": a person must act', async () => {
    const missing = 'f'.repeat(40);
    const err = await mirror.isAncestor(missing, c.c3).catch((e: unknown) => e);
    expect(isAppError(err, 'GIT_UNKNOWN_COMMIT')).toBe(true);
    expect(err).toMatchObject({
      next: 'user',
      reason: `commit ${missing} is not in the repository`,
      details: { field: 'ancestor', commit: missing },
    });
  });

  it('reads the note of a commit from refs/notes/signatures; undefined without a note', async () => {
    await appendSignatureNote(work, c.c3, 'c2lnbmF0dXJlLW9uZQ==');
    await push(work, 'refs/notes/signatures');
    expect(await poll()).toBe(true);
    const expected = await git(work, ['notes', '--ref=signatures', 'show', c.c3]);
    expect(await mirror.readSignatureNotes(c.c3, 'notes-ref')).toBe(expected);
    expect(await mirror.readSignatureNotes(c.c1, 'notes-ref')).toBeUndefined();
    expect(await mirror.readSignatureNotes(c.c3, 'latest-signature-tag')).toBeUndefined();
  });

  it.each([
    { kind: 'lightweight', annotated: false },
    { kind: 'annotated', annotated: true },
  ])('reads notes through a $kind latest-signature tag', async ({ annotated }) => {
    const tagged = await tagLatestSignature(work, annotated);
    const notesCommitAtTag = await revParse(work, 'refs/notes/signatures');
    const textAtTag = await git(work, ['notes', '--ref=signatures', 'show', c.c3]);
    // Move the notes ref on after tagging: the tag source must still read the tagged state.
    await appendSignatureNote(work, c.c3, `later-${String(annotated)}`);
    await push(
      work,
      'refs/notes/signatures',
      '+refs/tags/latest-signature:refs/tags/latest-signature',
    );
    const refs = await mirror.lsRemote();
    expect(refs.latestSignatureTag).toBe(tagged);
    expect(refs.latestSignatureCommit).toBe(notesCommitAtTag);
    expect(refs.latestSignatureTag === refs.latestSignatureCommit).toBe(!annotated);
    await mirror.fetch(refs);
    expect(await mirror.readSignatureNotes(c.c3, 'latest-signature-tag')).toBe(textAtTag);
    expect(await mirror.readSignatureNotes(c.c3, 'notes-ref')).toContain(
      `later-${String(annotated)}`,
    );
  });

  it('reads notes stored flat and fanned out one and two levels deep', async () => {
    const notes = [
      { commit: c.c1, text: 'flat-note\n', fanout: 0 },
      { commit: c.c2, text: 'fanout-one\n', fanout: 1 },
      { commit: c.c3, text: 'fanout-two\n', fanout: 2 },
    ];
    await writeNotesTree(work, notes);
    await push(work, '+refs/notes/signatures:refs/notes/signatures');
    expect(await poll()).toBe(true);
    for (const n of notes) {
      // git itself reads the hand-built tree the same way (the fixture is a valid notes tree).
      expect(await git(work, ['notes', '--ref=signatures', 'show', n.commit])).toBe(n.text);
      expect(await mirror.readSignatureNotes(n.commit, 'notes-ref')).toBe(n.text);
    }
  });

  it('exportTree writes the files with their exec bit, no .git, and leaves the mirror bare', async () => {
    const out = join(root, 'export');
    mkdirSync(out);
    await mirror.exportTree(c.c1, out);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'deep', 'run.sh']);
    expect(readFileSync(join(out, 'deep/dir/file.txt'), 'utf8')).toBe('deep\n');
    expect(statSync(join(out, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(join(out, 'README.md')).mode & 0o111).toBe(0);
    expect(existsSync(join(root, 'mirror', 'index'))).toBe(false);
    expect(await git(join(root, 'mirror'), ['rev-parse', '--is-bare-repository'])).toBe('true\n');
  });

  it('exportTree refuses a target directory that is not empty', async () => {
    const err = await mirror.exportTree(c.c1, join(root, 'export')).catch((e: unknown) => e);
    expect(isAppError(err)).toBe(true);
  });

  it('an existing mirror is reopened with its objects', async () => {
    const again = await new SimpleGitMirrorFactory().open(join(root, 'mirror'), {
      url: `file://${origin}`,
      branch: 'main',
      auth: { kind: 'none' },
    });
    expect(await again.localRefs()).toEqual(await mirror.localRefs());
    expect(await again.isAncestor(c.c1, c.c3)).toBe(true);
  });

  it.each([
    { name: 'a missing file:// repository', url: (r: string) => `file://${r}/nope.git` },
    { name: 'a missing local path', url: (r: string) => `${r}/nope.git` },
  ])('ls-remote of $name fails with GIT_NOT_FOUND', async ({ url }) => {
    const m = await new SimpleGitMirrorFactory().open(join(root, 'mirror-missing'), {
      url: url(root),
      branch: 'main',
      auth: { kind: 'none' },
    });
    const err = await m.lsRemote().catch((e: unknown) => e);
    expect(isAppError(err, 'GIT_NOT_FOUND')).toBe(true);
  });

  describe('a repository owned by another user (git refuses it: "dubious ownership")', () => {
    // Reproduces issue 20: this was reported as GIT_UNREACHABLE "the host could not be reached".
    // The tests run as root; the copy is given to uid/gid 65534 (nobody), the way a host's repo
    // is not owned by the service's uid in the container.
    let foreign: string;
    beforeAll(async () => {
      foreign = join(root, 'foreign.git');
      await cp(origin, foreign, { recursive: true });
      chownSync(foreign, 65534, 65534);
    });
    const spec = () => ({
      url: `file://${foreign}`,
      branch: 'main',
      auth: { kind: 'none' as const },
    });

    it('fails with GIT_UNSAFE_REPOSITORY naming the fix, not as unreachable', async () => {
      const m = await new SimpleGitMirrorFactory().open(join(root, 'mirror-foreign-1'), spec());
      const err = await m.lsRemote().catch((e: unknown) => e);
      expect(isAppError(err, 'GIT_UNSAFE_REPOSITORY')).toBe(true);
      expect((err as Error).message).toContain('--git-safe-directory');
      expect((err as Error).message).not.toMatch(/could not be reached/);
    });

    it.each([
      { name: 'its path', safe: (): string[] => [foreign] },
      { name: '*', safe: (): string[] => ['*'] },
    ])('is read once marked safe by $name (the service git config)', async ({ safe }) => {
      const configFile = join(root, `gitconfig-${safe()[0] === '*' ? 'all' : 'one'}`);
      const factory = new SimpleGitMirrorFactory({ safeDirectories: safe(), configFile });
      const m = await factory.open(join(root, `mirror-foreign-${configFile.slice(-3)}`), spec());
      const refs = await m.lsRemote();
      expect(refs.branch).toBe(await revParse(origin, 'refs/heads/main'));
      await m.fetch(refs);
      expect(await m.isAncestor(c.c1, refs.branch ?? '')).toBe(true);
      expect(statSync(configFile).mode & 0o777).toBe(0o600);
    });

    it('another foreign repository stays refused when only one path is marked safe', async () => {
      const other = join(root, 'foreign-2.git');
      await cp(origin, other, { recursive: true });
      chownSync(other, 65534, 65534);
      const factory = new SimpleGitMirrorFactory({
        safeDirectories: [foreign],
        configFile: join(root, 'gitconfig-two'),
      });
      const m = await factory.open(join(root, 'mirror-foreign-two'), {
        ...spec(),
        url: `file://${other}`,
      });
      const err = await m.lsRemote().catch((e: unknown) => e);
      expect(isAppError(err, 'GIT_UNSAFE_REPOSITORY')).toBe(true);
    });
  });

  it('left no temp files behind', () => {
    expect(readdirSync(scratch)).toEqual([]);
  });
});
