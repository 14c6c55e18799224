/**
 * Benchmark 4: the signature policy check of one commit with 3 signatures (its gpgsig and two
 * git-signatures notes) against 5 trusted keys. Ours: `pipelineSignaturePolicy` with the openpgp.js
 * verifier, preparing the keys on every check as the pipeline does. Baseline: spawning
 * `gpg --verify` for the same 3 signatures (concurrently) with the 5 keys in a keyring.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipelineSignaturePolicy } from '../src/pipeline/signature-policy.js';
import { noteSignatureLines, splitSignedCommit } from '../src/pipeline/signature-sources.js';
import { createOpenPgpVerifier } from '../src/pgp/openpgp.js';
import type { TrustedKey } from '../src/pgp/types.js';
import {
  addSignatureNote,
  commitFile,
  createRepoPair,
  readNoteFromRef,
  readRawCommit,
} from '../test/helpers/git-repo.js';
import { createGpgHome, exportPublicKey, generateKey, gpg } from '../test/helpers/gpg.js';
import { run } from './lib/proc.js';
import { higherIsBetter, lowerIsBetter, type BenchResult } from './lib/report.js';
import { summarize, timeMs } from './lib/stats.js';

/** Run benchmark 4: `oursReps` in-process checks, `gpgReps` gpg checks (after warm-ups). */
export async function benchSignatures(oursReps: number, gpgReps: number): Promise<BenchResult> {
  const started = performance.now();
  const home = await createGpgHome();
  const verifyHome = await createGpgHome();
  const repo = await createRepoPair();
  const files = await mkdtemp(join(tmpdir(), 'fg-bench-b4-'));
  try {
    const keys = [];
    for (let i = 0; i < 5; i++) {
      keys.push(await generateKey(home, { name: `Signer ${i}`, email: `s${i}@example.test` }));
    }
    const [k0, k1, k2] = keys;
    if (!k0 || !k1 || !k2) throw new Error('benchmark 4: keys were not generated');
    const commit = await commitFile(repo, 'a.txt', 'signed\n', { sign: { home, key: k0 } });
    await addSignatureNote(repo, commit, { home, key: k1 });
    await addSignatureNote(repo, commit, { home, key: k2 });
    const rawCommit = await readRawCommit(repo.work, commit);
    const note = await readNoteFromRef(repo.work, commit);
    if (note === undefined) throw new Error('benchmark 4: the commit has no note');
    const trusted: TrustedKey[] = [];
    for (const [i, k] of keys.entries()) {
      const armored = await exportPublicKey(home, k);
      trusted.push({ name: `key${i}`, publicKey: armored });
      await gpg(verifyHome, ['--import'], armored);
    }

    const verifier = createOpenPgpVerifier();
    const check = async (): Promise<void> => {
      const r = await pipelineSignaturePolicy({
        commitId: commit,
        rawCommit,
        notes: [note],
        required: 3,
        keys: trusted,
        verifier,
      });
      if (r.validCount !== 3) throw new Error(`benchmark 4: ${r.validCount} valid signatures`);
    };

    // The same three signatures as files for gpg.
    const parts = splitSignedCommit(rawCommit);
    if (parts.signature === undefined) throw new Error('benchmark 4: the commit is not signed');
    await writeFile(join(files, 'gpgsig.asc'), parts.signature);
    await writeFile(join(files, 'payload'), parts.payload);
    await writeFile(join(files, 'commit-id'), commit);
    const lines = noteSignatureLines([note]).signatures;
    if (lines.length !== 2) throw new Error(`benchmark 4: ${lines.length} note signatures`);
    const pairs: [string, string][] = [[join(files, 'gpgsig.asc'), join(files, 'payload')]];
    for (const [i, s] of lines.entries()) {
      await writeFile(join(files, `note-${i}.sig`), s.bytes);
      pairs.push([join(files, `note-${i}.sig`), join(files, 'commit-id')]);
    }
    const gpgCheck = async (): Promise<void> => {
      const outs = await Promise.all(
        pairs.map(([sig, data]) =>
          run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--verify', sig, data], {
            env: verifyHome.env,
          }),
        ),
      );
      const good = outs.filter((o) => o.includes('[GNUPG:] VALIDSIG')).length;
      if (good !== 3) throw new Error(`benchmark 4: gpg found ${good} valid signatures`);
    };

    const ours: number[] = [];
    for (let i = -20; i < oursReps; i++) {
      const t = await timeMs(check);
      if (i >= 0) ours.push(t);
    }
    const base: number[] = [];
    for (let i = -3; i < gpgReps; i++) {
      const t = await timeMs(gpgCheck);
      if (i >= 0) base.push(t);
    }
    const o = summarize(ours);
    const b = summarize(base);
    return {
      id: '4',
      title: 'Signature policy check (3 signatures, 5 trusted keys)',
      method:
        `One commit signed by key 1 (gpgsig) with git-signatures notes from keys 2 and 3; 5 trusted ` +
        `ed25519 keys made by gpg. Ours: \`pipelineSignaturePolicy\` (keys prepared per check, as the ` +
        `pipeline does) with \`createOpenPgpVerifier\`, ${oursReps} sequential checks after 20 ` +
        `warm-ups. Baseline: 3 concurrent \`gpg --verify\` processes (keyring with the 5 keys) per ` +
        `check, ${gpgReps} checks. Checks/s = 1000 / median ms per check.`,
      rows: [
        higherIsBetter(
          'checks per second',
          '/s',
          1000 / o.median,
          1000 / b.median,
          'gpg --verify',
          1,
        ),
        lowerIsBetter('p95 time per check', 'ms', o.p95, b.p95, 'gpg --verify', undefined),
      ],
      notes: [],
      raw: { ours, baseline: base, oursSummary: o, baselineSummary: b },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(files, { recursive: true, force: true });
    await repo.cleanup();
    await home.cleanup();
    await verifyHome.cleanup();
  }
}
