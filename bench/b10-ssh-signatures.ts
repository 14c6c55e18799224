/**
 * Benchmark 10: SSH signature verification. Three SSHSIG signatures over a commit id, made by
 * `ssh-keygen -Y sign -n git` with an ed25519, an ecdsa-sha2-nistp256 and an rsa-3072 key, against
 * 5 trusted keys. Ours: `prepareSshKeys` (per check, as the pipeline does) then
 * `verifySshSignature` on each, in process. Baseline: what a shell-out verifier would do — 3
 * concurrent `ssh-keygen -Y verify` spawns with an allowed-signers file of the 5 keys.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareSshKeys, verifySshSignature } from '../src/sshsig/verify.js';
import {
  createSshHome,
  generateSshKey,
  sshSign,
  writeAllowedSigners,
  type SshKeyPair,
  type SshKeySpec,
} from '../test/helpers/ssh-keygen.js';
import { run } from './lib/proc.js';
import { higherIsBetter, lowerIsBetter, type BenchResult } from './lib/report.js';
import { summarize, timeMs } from './lib/stats.js';

const COMMIT = '4f2a1c9e0b7d3a5f6e8c1b2d4a6f8e0c2b4d6f8a';
const PER_CHECK = 3;

/** Run benchmark 10: `oursReps` in-process checks, `keygenReps` ssh-keygen checks. */
export async function benchSshSignatures(
  oursReps: number,
  keygenReps: number,
): Promise<BenchResult> {
  const started = performance.now();
  const home = await createSshHome();
  const files = await mkdtemp(join(tmpdir(), 'fg-bench-b10-'));
  try {
    const specs: SshKeySpec[] = ['ed25519', 'ecdsa-256', 'rsa-3072', 'ed25519', 'ecdsa-384'];
    const keys: SshKeyPair[] = [];
    for (const [i, spec] of specs.entries()) keys.push(await generateSshKey(home, `k${i}`, spec));
    const signers = keys.slice(0, PER_CHECK);
    const signatures = await Promise.all(signers.map((k) => sshSign(home, k, COMMIT)));
    const trusted = keys.map((k, i) => ({ name: `key${i}`, publicKey: k.publicLine }));
    const payload = Buffer.from(COMMIT);

    const check = async (): Promise<void> => {
      const prepared = prepareSshKeys(trusted);
      const good = signatures.filter((s) => verifySshSignature(s, payload, prepared).ok).length;
      if (good !== PER_CHECK) throw new Error(`benchmark 10: ${good} valid signatures`);
    };

    const allowed = await writeAllowedSigners(
      home,
      keys.map((k) => k.publicLine),
    );
    await writeFile(join(files, 'commit-id'), COMMIT);
    const sigPaths: string[] = [];
    for (const [i, s] of signatures.entries()) {
      sigPaths.push(join(files, `sig-${i}`));
      await writeFile(join(files, `sig-${i}`), s);
    }
    const keygenCheck = async (): Promise<void> => {
      await Promise.all(
        sigPaths.map((sig) =>
          run(
            'ssh-keygen',
            ['-Y', 'verify', '-f', allowed, '-I', 'approver@example.test', '-n', 'git', '-s', sig],
            {
              input: COMMIT,
            },
          ),
        ),
      );
    };

    const ours: number[] = [];
    for (let i = -20; i < oursReps; i++) {
      const t = await timeMs(check);
      if (i >= 0) ours.push(t);
    }
    const base: number[] = [];
    for (let i = -3; i < keygenReps; i++) {
      const t = await timeMs(keygenCheck);
      if (i >= 0) base.push(t);
    }
    const o = summarize(ours);
    const b = summarize(base);
    return {
      id: '10',
      title: 'SSH signature verification (3 signatures, 5 trusted keys)',
      method:
        `Three \`ssh-keygen -Y sign -n git\` signatures over a commit id (ed25519, ecdsa-sha2-nistp256, ` +
        `rsa-3072 → rsa-sha2-512), 5 trusted keys. Ours: \`prepareSshKeys\` + \`verifySshSignature\` ` +
        `×3 per check (keys parsed per check, as the pipeline does), ${oursReps} sequential checks after ` +
        `20 warm-ups. Baseline: 3 concurrent \`ssh-keygen -Y verify\` spawns (allowed-signers file of the ` +
        `5 keys) per check, ${keygenReps} checks. Verifications/s = ${PER_CHECK} × 1000 / median ms per check.`,
      rows: [
        higherIsBetter(
          'SSH verifications per second',
          '/s',
          (PER_CHECK * 1000) / o.median,
          (PER_CHECK * 1000) / b.median,
          'ssh-keygen -Y verify',
          1,
        ),
        lowerIsBetter('p95 time per check', 'ms', o.p95, b.p95, 'ssh-keygen -Y verify', undefined),
      ],
      notes: [],
      raw: { ours, baseline: base, oursSummary: o, baselineSummary: b },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await rm(files, { recursive: true, force: true });
    await home.cleanup();
  }
}
