/**
 * `flant-gitops signatures add` with an SSH key, and `signatures show` judging SSH signatures,
 * with real git, ssh-keygen and our CLI as a user runs it: `--ssh-key FILE`, and git's own
 * `gpg.format=ssh` + `user.signingKey` without a flag. The lines it writes are our SSH note
 * format, pushed to origin, counted by the gate, and shown with their kind by `show`.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenPgpVerifier } from '../../src/pgp/openpgp.js';
import { evaluateSignatures } from '../../src/pipeline/signature-policy.js';
import { prepareSshKeys } from '../../src/sshsig/verify.js';
import { ROOT } from '../helpers/bench.js';
import {
  commitFile,
  createRepoPair,
  git,
  gitEnv,
  push,
  readNoteFromRef,
  readRawCommit,
  type RepoPair,
} from '../helpers/git-repo.js';
import { runTool } from '../helpers/run-tool.js';
import { startTestService, type TestService } from '../helpers/service.js';
import {
  createSshHome,
  generateSshKey,
  type SshHome,
  type SshKeyPair,
} from '../helpers/ssh-keygen.js';

const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const MOUNT = 'signatures_cli_ssh';
let home: SshHome;
let bob: SshKeyPair;
let carol: SshKeyPair;
let repo: RepoPair;
let commit = '';

async function flantGitops(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runTool(
    process.execPath,
    ['--import', TSX_LOADER, join(ROOT, 'src', 'main.ts'), ...args],
    {
      cwd: repo.work,
      env: gitEnv(env),
    },
  );
  return r.stdout.toString('utf8');
}

beforeAll(async () => {
  home = await createSshHome();
  bob = await generateSshKey(home, 'bob', 'ed25519');
  carol = await generateSshKey(home, 'carol', 'ecdsa-256');
  repo = await createRepoPair();
  commit = await commitFile(repo, 'a.txt', 'deploy me');
  await push(repo);
});

afterAll(async () => {
  await repo?.cleanup();
  await home?.cleanup();
});

describe('signatures add with an SSH key', () => {
  it('--ssh-key signs the commit id into an SSH note line, and gpg.format=ssh does without a flag', async () => {
    await flantGitops(['signatures', 'add', '--ssh-key', bob.privatePath, '--push']);
    await git(repo.work, ['config', 'gpg.format', 'ssh']);
    await git(repo.work, ['config', 'user.signingKey', carol.privatePath]);
    await flantGitops(['signatures', 'add', commit, '--push']);

    const note = (await readNoteFromRef(repo.origin, commit)) ?? '';
    const lines = note.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.startsWith('U1NIU0lH')).toBe(true);
    const verifier = createOpenPgpVerifier();
    const result = await evaluateSignatures({
      commitId: commit,
      rawCommit: await readRawCommit(repo.origin, commit),
      notes: [note],
      required: 2,
      keys: await verifier.prepare([]),
      verifier,
      sshKeys: prepareSshKeys([
        { name: 'bob', publicKey: bob.publicLine },
        { name: 'carol', publicKey: carol.publicLine },
      ]),
    });
    expect(result.signers.map((s) => `${s.kind}:${s.keyNames.join()}`)).toEqual([
      'ssh:bob',
      'ssh:carol',
    ]);
    expect(result.ok).toBe(true);
  });

  it("signatures show judges SSH lines with the mount's trusted SSH keys and names their kind", async () => {
    let svc: TestService | undefined;
    try {
      svc = await startTestService({ mounts: [MOUNT] });
      const put = (path: string, body: unknown) =>
        fetch(`${svc?.addr}/v1/${MOUNT}/${path}`, {
          method: 'PUT',
          headers: { 'x-vault-token': svc?.token ?? '', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect(
        (await put('configure/trusted_ssh_public_key/bob', { public_key: bob.publicLine })).status,
      ).toBe(204);
      const out = JSON.parse(
        await flantGitops(
          ['signatures', 'show', commit, '--mount', MOUNT, '--addr', svc.addr, '--json'],
          {
            VAULT_TOKEN: svc.token,
          },
        ),
      ) as {
        valid: { names: string[]; kind: string; fingerprint: string }[];
        rejected: { kind: string; reason: string; issuer: string }[];
      };
      expect(out.valid).toEqual([
        expect.objectContaining({ names: ['bob'], kind: 'ssh', fingerprint: bob.fingerprint }),
      ]);
      expect(out.rejected).toEqual([
        expect.objectContaining({ kind: 'ssh', reason: 'unknown-key', issuer: carol.fingerprint }),
      ]);
    } finally {
      await svc?.stop();
    }
  });
});
