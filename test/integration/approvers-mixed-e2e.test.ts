/**
 * Three approvers of two kinds, end to end with real parts: alice signs the commit with PGP
 * (`git commit -S` through gpg), bob adds an SSH note before the push, carol — whose key is an
 * SSH key too — signs after the push with `flant-gitops signatures add --ssh-key` and `push` in
 * her own clone; the host's push event for refs/notes/signatures (GitHub-signed) starts the run.
 * Before carol, `status` names what the tip has by kind and fingerprint: 2 of 3, missing 1.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import {
  commitFile,
  createRepoPair,
  git,
  gitEnv,
  push,
  type RepoPair,
} from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { bao, type BaoResult } from '../helpers/openbao.js';
import { runTool } from '../helpers/run-tool.js';
import { startTestService, type TestService } from '../helpers/service.js';
import {
  addSshSignatureNote,
  createSshHome,
  generateSshKey,
  type SshHome,
  type SshKeyPair,
} from '../helpers/ssh-keygen.js';

const MOUNT = 'approvers_mixed_e2e';
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const image = inject('testImage');
const secret = randomBytes(24).toString('hex');

let svc: TestService;
let gpgHome: GpgHome;
let sshHome: SshHome;
let alice: GpgKey;
let bob: SshKeyPair;
let carol: SshKeyPair;
let repo: RepoPair;
let tip = '';

function ok(r: BaoResult): string {
  if (r.code !== 0) throw new Error(`bao failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
const cli = (args: string[]) => bao({ addr: svc.addr, token: svc.token }, args);
const readStatus = async (): Promise<Record<string, unknown>> =>
  (
    JSON.parse(ok(await cli(['read', '-format=json', `${MOUNT}/status`]))) as {
      data: Record<string, unknown>;
    }
  ).data;

beforeAll(async () => {
  gpgHome = await createGpgHome();
  sshHome = await createSshHome();
  alice = await generateKey(gpgHome, { name: 'Alice Author', email: 'alice@example.test' });
  bob = await generateSshKey(sshHome, 'bob', 'ed25519');
  carol = await generateSshKey(sshHome, 'carol', 'ecdsa-256');
  repo = await createRepoPair();
  tip = await commitFile(repo, 'message.txt', 'needs three approvals\n', {
    sign: { home: gpgHome, key: alice },
  });
  await addSshSignatureNote(repo, sshHome, tip, bob);
  await push(repo);

  svc = await startTestService({ mounts: [MOUNT] });
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/trusted_pgp_public_key`,
      'name=alice',
      `public_key=${await exportPublicKey(gpgHome, alice)}`,
    ]),
  );
  for (const [name, key] of [
    ['bob', bob],
    ['carol', carol],
  ] as const) {
    ok(
      await cli([
        'write',
        `${MOUNT}/configure/trusted_ssh_public_key/${name}`,
        `public_key=${key.publicLine}`,
      ]),
    );
  }
  ok(await cli(['write', `${MOUNT}/configure/webhook/gh`, 'source=github', `secret=${secret}`]));
  ok(
    await cli([
      'write',
      `${MOUNT}/configure`,
      `git_repo_url=file://${repo.origin}`,
      'git_branch_name=main',
      'git_poll_period=1h',
      'required_number_of_verified_signatures_on_commit=3',
      `docker_image=${image}`,
      'commands=echo "approved: $(cat /git/message.txt)"',
    ]),
  );
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await gpgHome?.cleanup();
  await sshHome?.cleanup();
});

describe('three approvers, PGP and SSH, one commit', () => {
  it('before the third approver, status shows 2 of 3 by kind and fingerprint', async () => {
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    await waitFor(
      'the signature report',
      async () => (await readStatus()).tip_signatures === '2 of 3, missing 1',
      60_000,
    );
    expect(await readStatus()).toMatchObject({
      last_poll_code: 'SIGNATURES_INSUFFICIENT',
      tip_signatures_valid: [`alice pgp ${alice.fingerprint}`, `bob ssh ${bob.fingerprint}`],
      tip_signatures_missing: 1,
    });
  });

  it('carol signs with her SSH key after the push; the notes-ref push event deploys', async () => {
    const clone = join(repo.root, 'carol');
    await git(repo.root, ['clone', '-q', repo.origin, clone]);
    const run = (args: string[]) =>
      runTool(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'src', 'main.ts'), ...args], {
        cwd: clone,
        env: gitEnv(),
      });
    await run(['signatures', 'add', '--ref', 'refs/heads/main', '--ssh-key', carol.privatePath]);
    await run(['signatures', 'push']);
    expect((await readStatus()).last_successful_commit ?? null).toBeNull();

    const notesCommit = (await git(repo.origin, ['rev-parse', 'refs/notes/signatures']))
      .toString()
      .trim();
    const body = JSON.stringify({
      ref: 'refs/notes/signatures',
      before: '0'.repeat(40),
      after: notesCommit,
      repository: { full_name: 'acme/app', clone_url: `file://${repo.origin}` },
      pusher: { name: 'carol' },
    });
    const hookPath = ok(await cli(['read', '-field=hook_path', `${MOUNT}/configure/webhook/gh`]));
    const res = await fetch(`${svc.addr}${hookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/e2e',
        'x-github-event': 'push',
        'x-github-delivery': randomBytes(16).toString('hex'),
        'x-hub-signature-256': await sign(secret, body),
      },
      body,
    });
    expect(await res.json()).toEqual({ status: 'accepted' });
    await waitFor(
      'the approved commit to be deployed',
      async () => (await readStatus()).last_successful_commit === tip,
      90_000,
      50,
    );
    expect(await readStatus()).toMatchObject({
      last_poll_outcome: 'deployed',
      tip_signatures: '3 of 3, missing 0',
      tip_signatures_valid: [
        `alice pgp ${alice.fingerprint}`,
        `bob ssh ${bob.fingerprint}`,
        `carol ssh ${carol.fingerprint}`,
      ],
    });
    // Started by the webhook's poll: no poll was requested after carol's signature.
    const ids = JSON.parse(ok(await cli(['list', '-format=json', `${MOUNT}/task`]))) as string[];
    const triggers: string[] = [];
    for (const id of ids) {
      const t = JSON.parse(ok(await cli(['read', '-format=json', `${MOUNT}/task/${id}`]))) as {
        data: Record<string, string>;
      };
      if (t.data.status === 'SUCCEEDED') triggers.push(t.data.trigger ?? '');
    }
    expect(triggers).toEqual([expect.stringContaining('webhook gh')]);
  });
});
