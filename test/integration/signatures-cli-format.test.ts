/**
 * What `flant-gitops signatures add` writes is what werf's `git signatures` tool reads and what
 * our gate reads (issue 15): one base64 line of a binary detached signature over the 40-hex
 * commit id in the commit's note on refs/notes/signatures — which werf's own check (`gpg
 * --verify <sig> <(git show-ref refs/heads/<branch> -s)`) accepts — and a lightweight
 * `latest-signature` tag on the notes commit; the gate's mirror finds it flat and fanned out,
 * through the notes ref and through the tag. Real git and gpg, our CLI as a user runs it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimpleGitMirrorFactory } from '../../src/git/mirror.js';
import { createOpenPgpVerifier } from '../../src/pgp/openpgp.js';
import { evaluateSignatures } from '../../src/pipeline/signature-policy.js';
import { ROOT } from '../helpers/bench.js';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  gpg,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import {
  commitFile,
  createRepoPair,
  fanOutNotes,
  git,
  gitEnv,
  push,
  readNoteFromRef,
  readNoteFromTag,
  type RepoPair,
} from '../helpers/git-repo.js';
import { runTool } from '../helpers/run-tool.js';

const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
let home: GpgHome;
let bob: GpgKey;
let repo: RepoPair;
let commit = '';

async function flantGitops(args: string[]): Promise<string> {
  const main = join(ROOT, 'src', 'main.ts');
  const r = await runTool(process.execPath, ['--import', TSX_LOADER, main, ...args], {
    cwd: repo.work,
    env: gitEnv({ GNUPGHOME: home.dir }),
  });
  return r.stdout.toString('utf8');
}

/** The gate's view: the mirror fetched from origin, then the production policy. */
async function gateCount(): Promise<{ valid: number; fromTag: boolean; fromRef: boolean }> {
  const mirror = await new SimpleGitMirrorFactory().open(join(repo.root, `mirror-${Date.now()}`), {
    url: `file://${repo.origin}`,
    branch: 'main',
    auth: { kind: 'none' },
  });
  await mirror.fetch(await mirror.lsRemote());
  const fromRef = await mirror.readSignatureNotes(commit, 'notes-ref');
  const fromTag = await mirror.readSignatureNotes(commit, 'latest-signature-tag');
  const verifier = createOpenPgpVerifier();
  const keys = await verifier.prepare([
    { name: 'bob', publicKey: await exportPublicKey(home, bob) },
  ]);
  const result = await evaluateSignatures({
    commitId: commit,
    rawCommit: await mirror.readCommit(commit),
    notes: [fromRef, fromTag],
    required: 1,
    keys,
    verifier,
  });
  return {
    valid: result.validCount,
    fromTag: fromTag !== undefined,
    fromRef: fromRef !== undefined,
  };
}

beforeAll(async () => {
  home = await createGpgHome();
  bob = await generateKey(home, { name: 'Bob', email: 'bob@example.test' });
  repo = await createRepoPair();
  commit = await commitFile(repo, 'a.txt', 'one\n');
  await push(repo);
  // What `git signatures add` would be tempted to sign: `show-ref main -s` has two lines now.
  await git(repo.work, ['fetch', '-q', 'origin']);
  await flantGitops(['signatures', 'add', '--key', bob.fingerprint]);
  await flantGitops(['signatures', 'push']);
});

afterAll(async () => {
  await repo?.cleanup();
  await home?.cleanup();
});

describe('flant-gitops signatures add writes werf’s format', () => {
  it('one base64 line that werf’s check (gpg --verify over show-ref refs/heads/main -s) accepts', async () => {
    const note = await readNoteFromRef(repo.origin, commit);
    expect(note).toMatch(/^[A-Za-z0-9+/]+={0,2}\n$/);
    const sigFile = join(repo.root, 'sig.bin');
    const dataFile = join(repo.root, 'subject');
    await writeFile(sigFile, Buffer.from(note?.trim() ?? '', 'base64'));
    const subject = (await git(repo.work, ['show-ref', 'refs/heads/main', '-s'])).toString().trim();
    expect(subject).toBe(commit);
    await writeFile(dataFile, subject);
    await expect(gpg(home, ['--verify', sigFile, dataFile])).resolves.toBeDefined();
  });

  it('a lightweight latest-signature tag on the notes commit, pushed to origin', async () => {
    const tagType = (await git(repo.origin, ['cat-file', '-t', 'refs/tags/latest-signature']))
      .toString()
      .trim();
    expect(tagType).toBe('commit');
    const [tag, notes] = await Promise.all(
      ['refs/tags/latest-signature', 'refs/notes/signatures'].map(async (r) =>
        (await git(repo.origin, ['rev-parse', r])).toString().trim(),
      ),
    );
    expect(tag).toBe(notes);
    expect(await readNoteFromTag(repo.origin, commit)).toBe(
      await readNoteFromRef(repo.origin, commit),
    );
  });

  it('the gate counts it, flat and fanned out, from the notes ref and from the tag', async () => {
    expect(await gateCount()).toEqual({ valid: 1, fromRef: true, fromTag: true });
    await fanOutNotes(repo, { levels: 1, fillers: 3 });
    await push(repo);
    expect(await gateCount()).toEqual({ valid: 1, fromRef: true, fromTag: true });
  });
});
