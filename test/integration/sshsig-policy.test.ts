/**
 * The quorum across kinds with real parts: a PGP `gpgsig` by `git commit -S` through gpg, SSH
 * commits by `git -c gpg.format=ssh commit -S`, SSH note lines by `ssh-keygen -Y sign -n git`
 * appended to refs/notes/signatures beside werf-style PGP lines, pushed to a bare origin and
 * read back with the git CLI; judged by openpgp.js and the SSHSIG verifier through the policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenPgpVerifier } from '../../src/pgp/openpgp.js';
import { evaluateSignatures } from '../../src/pipeline/signature-policy.js';
import { prepareSshKeys } from '../../src/sshsig/verify.js';
import {
  createGpgHome,
  exportPublicKey,
  generateKey,
  type GpgHome,
  type GpgKey,
} from '../helpers/gpg.js';
import {
  addSignatureNote,
  commitFile,
  createRepoPair,
  push,
  readNoteFromRef,
  readNoteFromTag,
  readRawCommit,
  type RepoPair,
} from '../helpers/git-repo.js';
import {
  addSshSignatureNote,
  commitFileSshSigned,
  createSshHome,
  generateSshKey,
  type SshHome,
  type SshKeyPair,
} from '../helpers/ssh-keygen.js';

let gpgHome: GpgHome;
let sshHome: SshHome;
let alice: GpgKey;
let bob: SshKeyPair;
let carol: SshKeyPair;
let mallory: SshKeyPair;

beforeAll(async () => {
  gpgHome = await createGpgHome();
  sshHome = await createSshHome();
  alice = await generateKey(gpgHome, { name: 'Alice', email: 'alice@example.test' });
  bob = await generateSshKey(sshHome, 'bob', 'ed25519');
  carol = await generateSshKey(sshHome, 'carol', 'ecdsa-256');
  mallory = await generateSshKey(sshHome, 'mallory', 'ed25519');
});

afterAll(async () => {
  await gpgHome?.cleanup();
  await sshHome?.cleanup();
});

const verifier = createOpenPgpVerifier();

/** Push, read the commit and its notes from origin, and evaluate with alice (PGP), bob and carol (SSH) trusted. */
async function judge(repo: RepoPair, commit: string, required: number) {
  await push(repo);
  return evaluateSignatures({
    commitId: commit,
    rawCommit: await readRawCommit(repo.origin, commit),
    notes: [await readNoteFromRef(repo.origin, commit), await readNoteFromTag(repo.origin, commit)],
    required,
    keys: await verifier.prepare([
      { name: 'alice', publicKey: await exportPublicKey(gpgHome, alice) },
    ]),
    verifier,
    sshKeys: prepareSshKeys([
      { name: 'bob', publicKey: bob.publicLine },
      { name: 'carol', publicKey: carol.publicLine },
    ]),
  });
}

const summary = (r: Awaited<ReturnType<typeof judge>>) => ({
  ok: r.ok,
  signers: r.signers.map((s) => `${s.source}:${s.kind}:${s.keyNames.join()}`),
  rejected: r.rejected.map((s) => `${s.source}:${s.kind}:${s.reason}`),
});

describe('quorum across PGP and SSH signatures (real gpg, ssh-keygen, git)', () => {
  let repo: RepoPair;
  beforeAll(async () => {
    repo = await createRepoPair();
  });
  afterAll(async () => {
    await repo?.cleanup();
  });

  it('N=2 is met by one PGP gpgsig and one SSH note', async () => {
    const commit = await commitFile(repo, 'a.txt', '1', { sign: { home: gpgHome, key: alice } });
    await addSshSignatureNote(repo, sshHome, commit, bob);
    expect(summary(await judge(repo, commit, 2))).toEqual({
      ok: true,
      signers: ['gpgsig:pgp:alice', 'note:ssh:bob'],
      rejected: [],
    });
  });

  it('N=2 is met by an SSH gpgsig and a werf-style PGP note', async () => {
    const commit = await commitFileSshSigned(repo, carol, 'a.txt', '2');
    await addSignatureNote(repo, commit, { home: gpgHome, key: alice });
    expect(summary(await judge(repo, commit, 2))).toEqual({
      ok: true,
      signers: ['gpgsig:ssh:carol', 'note:pgp:alice'],
      rejected: [],
    });
  });

  it('N=2 is not met by the same SSH key twice (its gpgsig and its note)', async () => {
    const commit = await commitFileSshSigned(repo, bob, 'a.txt', '3');
    await addSshSignatureNote(repo, sshHome, commit, bob);
    const result = await judge(repo, commit, 2);
    expect(summary(result)).toEqual({ ok: false, signers: ['gpgsig:ssh:bob'], rejected: [] });
    expect(result.error?.reason).toContain(`1 valid signature(s) from trusted keys, 2 required`);
    expect(result.error?.reason).toContain(`signed by ssh ${bob.fingerprint} (bob)`);
  });

  it('an untrusted SSH note and a note in namespace file do not count, and are named', async () => {
    const commit = await commitFile(repo, 'a.txt', '4', { sign: { home: gpgHome, key: alice } });
    await addSshSignatureNote(repo, sshHome, commit, mallory);
    await addSshSignatureNote(repo, sshHome, commit, carol, { namespace: 'file' });
    const result = await judge(repo, commit, 2);
    expect(summary(result)).toEqual({
      ok: false,
      signers: ['gpgsig:pgp:alice'],
      rejected: ['note:ssh:unknown-key', 'note:ssh:wrong-namespace'],
    });
    expect(result.error?.reason).toContain(`(ssh ${mallory.fingerprint}): unknown-key`);
    expect(result.error?.reason).toContain(`signed by pgp ${alice.fingerprint} (alice)`);
  });
});
