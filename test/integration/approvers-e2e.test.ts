/**
 * The approvers' workflow end to end (issue 15), real parts only: the service as src/service.ts composes
 * it, real git and gpg, real Docker, configured through the real `bao` CLI. Two approvers must
 * sign; the author's signed commit is pushed and `status` shows "1 of 2, missing 1"; the second
 * approver — after a werf-style signature over the wrong bytes — runs `flant-gitops signatures
 * add` and `push` in their own clone; the host's push event for refs/notes/signatures arrives as
 * GitHub sends it (signed with @octokit/webhooks-methods) and the command runs without any manual
 * poll; `signatures show` lists both signers and the rejected signature with its reason.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import {
  createGpgHome,
  detachSign,
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

const MOUNT = 'approvers_e2e';
/** tsx's loader by path: the approver's clone is outside this repository. */
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const image = inject('testImage');
const secret = randomBytes(24).toString('hex');

let svc: TestService;
let aliceHome: GpgHome;
let bobHome: GpgHome;
let alice: GpgKey;
let bob: GpgKey;
let repo: RepoPair;
let bobClone = '';
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

/** Our CLI, as an approver runs it in their clone (their gpg home, git identity). */
async function flantGitops(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runTool(
    process.execPath,
    ['--import', TSX_LOADER, join(ROOT, 'src', 'main.ts'), ...args],
    { cwd: bobClone, env: gitEnv({ GNUPGHOME: bobHome.dir, ...env }) },
  );
  return r.stdout.toString('utf8');
}

beforeAll(async () => {
  aliceHome = await createGpgHome();
  bobHome = await createGpgHome();
  alice = await generateKey(aliceHome, { name: 'Alice Approver', email: 'alice@example.test' });
  bob = await generateKey(bobHome, { name: 'Bob Approver', email: 'bob@example.test' });
  repo = await createRepoPair();
  tip = await commitFile(repo, 'message.txt', 'needs two approvals\n', {
    sign: { home: aliceHome, key: alice },
  });
  await push(repo);

  svc = await startTestService({ mounts: [MOUNT] });
  ok(
    await cli([
      'write',
      `${MOUNT}/configure`,
      `git_repo_url=file://${repo.origin}`,
      'git_branch_name=main',
      'git_poll_period=1h',
      'required_number_of_verified_signatures_on_commit=2',
      `docker_image=${image}`,
      'commands=echo "approved: $(cat /git/message.txt)"',
    ]),
  );
  for (const [name, home, key] of [
    ['alice', aliceHome, alice],
    ['bob', bobHome, bob],
  ] as const) {
    ok(
      await cli([
        'write',
        `${MOUNT}/configure/trusted_pgp_public_key`,
        `name=${name}`,
        `public_key=${await exportPublicKey(home, key)}`,
      ]),
    );
  }
  ok(await cli(['write', `${MOUNT}/configure/webhook/gh`, 'source=github', `secret=${secret}`]));
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await aliceHome?.cleanup();
  await bobHome?.cleanup();
});

describe('two approvers, one commit', () => {
  it('the pushed commit carries one of two signatures: status says what is missing', async () => {
    ok(await cli(['write', '-f', `${MOUNT}/poll`]));
    await waitFor('the first poll', async () => (await readStatus()).remote_tip === tip, 60_000);
    await waitFor(
      'the signature report',
      async () => (await readStatus()).tip_signatures !== null,
      60_000,
    );
    const st = await readStatus();
    expect(st).toMatchObject({
      last_poll_code: 'SIGNATURES_INSUFFICIENT',
      tip_signatures: '1 of 2, missing 1',
      tip_signatures_required: 2,
      tip_signatures_valid: [`alice ${alice.fingerprint}`],
      tip_signatures_missing: 1,
    });
  });

  it('the second approver signs with flant-gitops signatures add + push; the push event deploys', async () => {
    bobClone = join(repo.root, 'bob');
    await git(repo.root, ['clone', '-q', repo.origin, bobClone]);
    // First the trap of werf's `git signatures add main`: it signs `git show-ref main -s`, which
    // in a clone lists two lines (main and origin/main) — valid bytes for gpg, not the commit id.
    const showRef = (await git(bobClone, ['show-ref', 'main', '-s'])).toString().trim();
    expect(showRef.split('\n')).toHaveLength(2);
    const wrong = (await detachSign(bobHome, bob, showRef)).toString('base64');
    await git(bobClone, ['notes', '--ref', 'signatures', 'append', '-m', wrong, tip]);

    expect(await flantGitops(['signatures', 'add', '--ref', 'refs/heads/main'])).toContain(
      `signed ${tip}`,
    );
    await flantGitops(['signatures', 'push']);
    const before = await readStatus();
    expect(before.last_poll_code).toBe('SIGNATURES_INSUFFICIENT');

    // The host's push event for refs/notes/signatures, as GitHub sends and signs it.
    const notesCommit = (await git(repo.origin, ['rev-parse', 'refs/notes/signatures']))
      .toString()
      .trim();
    const body = JSON.stringify({
      ref: 'refs/notes/signatures',
      before: '0'.repeat(40),
      after: notesCommit,
      repository: { full_name: 'acme/app', clone_url: `file://${repo.origin}` },
      pusher: { name: 'bob' },
    });
    const hookPath = ok(await cli(['read', '-field=hook_path', `${MOUNT}/configure/webhook/gh`]));
    const sent = performance.now();
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
      20,
    );
    // Measured, not asserted (speed belongs to `make bench`).
    process.stdout.write(
      `[approvers-e2e] delivery → commit recorded: ${Math.round(performance.now() - sent)} ms\n`,
    );
    const st = await readStatus();
    expect(st).toMatchObject({
      last_poll_outcome: 'deployed',
      tip_signatures: '2 of 2, missing 0',
    });
    // Deployed by the webhook's poll: no manual poll was requested after the signature.
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

  it('signatures show lists both signers, and the wrong-payload signature as rejected', async () => {
    const out = JSON.parse(
      await flantGitops(
        ['signatures', 'show', tip, '--mount', MOUNT, '--addr', svc.addr, '--json'],
        {
          VAULT_TOKEN: svc.token,
        },
      ),
    ) as {
      valid: { names: string[]; fingerprint: string; source: string }[];
      rejected: { source: string; reason: string; detail: string }[];
      missing: number;
    };
    expect(out.valid.map((v) => [v.names, v.fingerprint, v.source])).toEqual([
      [['alice'], alice.fingerprint, 'gpgsig'],
      [['bob'], bob.fingerprint, 'note'],
    ]);
    expect(out.rejected).toEqual([
      expect.objectContaining({ source: 'note', reason: 'bad-signature' }),
    ]);
    expect(out.missing).toBe(0);
    const text = await flantGitops(['signatures', 'show', tip, '--mount', MOUNT], {
      VAULT_ADDR: svc.addr,
      VAULT_TOKEN: svc.token,
    });
    expect(text).toContain(`valid     bob  ${bob.fingerprint}`);
    expect(text).toMatch(/rejected {2}note line \d: bad-signature/);
  });
});
