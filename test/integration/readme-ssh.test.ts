/**
 * The README's "Approving with SSH keys" snippets, run verbatim with bash, real ssh-keygen and git:
 * the author's `git commit -S` with gpg.format=ssh and an approver's SSH note line. What they push
 * must count as two distinct SSH signers, so the documentation cannot drift from the format.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenPgpVerifier } from '../../src/pgp/openpgp.js';
import { evaluateSignatures } from '../../src/pipeline/signature-policy.js';
import { prepareSshKeys } from '../../src/sshsig/verify.js';
import { ROOT } from '../helpers/bench.js';
import {
  commitFile,
  createRepoPair,
  gitEnv,
  push,
  readNoteFromRef,
  readRawCommit,
  type RepoPair,
} from '../helpers/git-repo.js';
import { runTool } from '../helpers/run-tool.js';
import { generateSshKey, type SshKeyPair } from '../helpers/ssh-keygen.js';

/** The shell code between `<!-- name:start -->` and `<!-- name:end -->`, without the fences. */
function snippet(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(
    `<!-- ${name}:start -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\n<!-- ${name}:end -->`,
  ).exec(readme);
  if (!m?.[1]) throw new Error(`README has no ${name} snippet`);
  return m[1];
}

/** A person's HOME with `~/.ssh/id_ed25519` made by ssh-keygen. */
async function person(repo: RepoPair, name: string): Promise<{ home: string; key: SshKeyPair }> {
  const home = join(repo.root, `home-${name}`);
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const key = await generateSshKey(
    { dir: join(home, '.ssh'), cleanup: async () => undefined },
    'id_ed25519',
    'ed25519',
  );
  return { home, key };
}

const bash = (cwd: string, home: string, code: string) =>
  runTool('bash', ['-euo', 'pipefail', '-c', code], { cwd, env: gitEnv({ HOME: home }) });

describe('README: approving with SSH keys', () => {
  let repo: RepoPair;
  beforeAll(async () => {
    repo = await createRepoPair();
  });
  afterAll(async () => {
    await repo?.cleanup();
  });

  it('the author snippet and the approver snippet give two SSH signatures that count', async () => {
    const author = await person(repo, 'author');
    const approver = await person(repo, 'approver');
    await commitFile(repo, 'base.txt', 'base');
    await push(repo);
    await runTool('bash', ['-c', 'echo v2 > app.txt && git add app.txt'], {
      cwd: repo.work,
      env: gitEnv(),
    });
    await bash(repo.work, author.home, snippet('readme-ssh-commit'));
    // The approver works in a clone of their own.
    const clone = join(repo.root, 'approver-clone');
    await runTool('git', ['clone', '-q', repo.origin, clone], { env: gitEnv() });
    await bash(clone, approver.home, snippet('readme-ssh-note'));
    await rm(join(clone, 'ssh-signature.line'));

    const commit = (
      await runTool('git', ['-C', repo.origin, 'rev-parse', 'main'], { env: gitEnv() })
    ).stdout
      .toString()
      .trim();
    const verifier = createOpenPgpVerifier();
    const result = await evaluateSignatures({
      commitId: commit,
      rawCommit: await readRawCommit(repo.origin, commit),
      notes: [await readNoteFromRef(repo.origin, commit)],
      required: 2,
      keys: await verifier.prepare([]),
      verifier,
      sshKeys: prepareSshKeys([
        { name: 'author', publicKey: author.key.publicLine },
        { name: 'approver', publicKey: approver.key.publicLine },
      ]),
    });
    expect(result.rejected).toEqual([]);
    expect(result.signers.map((s) => `${s.source}:${s.kind}:${s.keyNames.join()}`)).toEqual([
      'gpgsig:ssh:author',
      'note:ssh:approver',
    ]);
    expect(result.ok).toBe(true);
  });
});
