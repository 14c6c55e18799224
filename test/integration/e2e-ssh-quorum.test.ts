/**
 * The mixed quorum through the whole service: configured with the real `bao` CLI (a trusted PGP
 * key and a trusted SSH key), commits signed by real gpg and `git -c gpg.format=ssh commit -S`,
 * an SSH note by `ssh-keygen -Y sign -n git`, polls, and real Docker running the command.
 * N = 2: one PGP gpgsig alone fails naming its kind and fingerprint; adding bob's SSH note
 * deploys; bob's SSH key twice (gpgsig and note) does not.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import { commitFile, createRepoPair, push, type RepoPair } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { bao, type BaoResult } from '../helpers/openbao.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { mountContainers } from '../helpers/service-process.js';
import {
  addSshSignatureNote,
  commitFileSshSigned,
  createSshHome,
  generateSshKey,
  type SshHome,
  type SshKeyPair,
} from '../helpers/ssh-keygen.js';

const MOUNT = 'e2e_ssh_quorum';
const image = inject('testImage');

let svc: TestService;
let gpgHome: GpgHome;
let sshHome: SshHome;
let alice: GpgKey;
let bob: SshKeyPair;
let repo: RepoPair;

function ok(r: BaoResult): string {
  if (r.code !== 0) throw new Error(`bao failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}
const cli = (args: string[]) => bao({ addr: svc.addr, token: svc.token }, args);
const readJson = async (path: string) =>
  JSON.parse(ok(await cli(['read', '-format=json', `${MOUNT}/${path}`]))) as {
    data: Record<string, unknown>;
  };

async function taskIds(): Promise<string[]> {
  const r = await cli(['list', '-format=json', `${MOUNT}/task`]);
  return r.code === 0 ? (JSON.parse(r.stdout) as string[]) : [];
}

/** Request a poll and wait for the task that runs `tip` to finish; returns it. */
async function pollTip(tip: string): Promise<Record<string, string>> {
  const before = new Set(await taskIds());
  ok(await cli(['write', '-f', `${MOUNT}/poll`]));
  let task: Record<string, string> = {};
  await waitFor(
    `a finished task for ${tip}`,
    async () => {
      for (const id of (await taskIds()).filter((i) => !before.has(i))) {
        const t = (await readJson(`task/${id}`)).data as Record<string, string>;
        if (t.commit === tip && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(t.status ?? '')) {
          task = t;
          return true;
        }
      }
      return false;
    },
    90_000,
    250,
  );
  return task;
}

beforeAll(async () => {
  gpgHome = await createGpgHome();
  sshHome = await createSshHome();
  alice = await generateKey(gpgHome, { name: 'Alice', email: 'alice@example.test' });
  bob = await generateSshKey(sshHome, 'bob', 'ed25519');
  repo = await createRepoPair();
  svc = await startTestService({ mounts: [MOUNT] });
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/trusted_pgp_public_key`,
      'name=alice',
      `public_key=${await exportPublicKey(gpgHome, alice)}`,
    ]),
  );
  ok(
    await cli([
      'write',
      `${MOUNT}/configure/trusted_ssh_public_key/bob`,
      `public_key=${bob.publicLine}`,
    ]),
  );
  ok(
    await cli([
      'write',
      `${MOUNT}/configure`,
      `git_repo_url=file://${repo.origin}`,
      'git_branch_name=main',
      'git_poll_period=1h',
      'required_number_of_verified_signatures_on_commit=2',
      `docker_image=${image}`,
      'commands=echo deployed-$GIT_COMMIT',
    ]),
  );
});

afterAll(async () => {
  await svc?.stop();
  await repo?.cleanup();
  await gpgHome?.cleanup();
  await sshHome?.cleanup();
  expect(mountContainers(MOUNT)).toEqual([]);
});

describe('end to end: a quorum of one PGP and one SSH signature', () => {
  it('a PGP gpgsig alone fails, naming its kind; adding an SSH note deploys', async () => {
    const tip = await commitFile(repo, 'a.txt', '1', { sign: { home: gpgHome, key: alice } });
    await push(repo);
    const failed = await pollTip(tip);
    expect(failed).toMatchObject({ status: 'FAILED', reason_code: 'SIGNATURES_INSUFFICIENT' });
    expect(failed.reason).toContain(`signed by pgp ${alice.fingerprint} (alice)`);

    await addSshSignatureNote(repo, sshHome, tip, bob);
    await push(repo);
    expect(await pollTip(tip)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await readJson('status')).data.last_successful_commit).toBe(tip);
  });

  it('the same SSH key twice (its gpgsig and its note) does not meet N = 2', async () => {
    const tip = await commitFileSshSigned(repo, bob, 'a.txt', '2');
    await addSshSignatureNote(repo, sshHome, tip, bob);
    await push(repo);
    const failed = await pollTip(tip);
    expect(failed).toMatchObject({ status: 'FAILED', reason_code: 'SIGNATURES_INSUFFICIENT' });
    expect(failed.reason).toContain(`1 valid signature(s) from trusted keys, 2 required`);
    expect(failed.reason).toContain(`signed by ssh ${bob.fingerprint} (bob)`);
    // The status view of what the tip lacks names the signer's kind and fingerprint too.
    const status = (await readJson('status')).data;
    expect(status.last_poll_reason).toContain(`signed by ssh ${bob.fingerprint} (bob)`);
  });
});
