/**
 * Benchmark 1: push → first command running, through a webhook. The service runs in-process as
 * src/service.ts composes it; each repetition pushes a signed commit to a local bare repository, then
 * sends a signed `generic` delivery, and the clock stops when the container's command (busybox
 * wget) hits a loopback marker server. The floor, measured in the same run, is what any tool must
 * do at least: `git ls-remote` + `git fetch` of the new commit into a mirror + `docker run` of the
 * same image doing the same wget.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { commitFile, createRepoPair, push } from '../test/helpers/git-repo.js';
import { createGpgHome, exportPublicKey, generateKey } from '../test/helpers/gpg.js';
import { waitFor } from '../test/helpers/net.js';
import { createPushFloor, untilMarker } from './lib/floor.js';
import { hmacSignature, postDelivery } from './lib/hooks.js';
import { startMarker } from './lib/marker.js';
import { lowerIsBetter, type BenchResult } from './lib/report.js';
import { startBenchService } from './lib/service.js';
import { summarize } from './lib/stats.js';

const MOUNT = 'flant_gitops';

/** Run benchmark 1 with `reps` pushes (and as many floor runs), after one warm-up each. */
export async function benchPushLatency(image: string, reps: number): Promise<BenchResult> {
  const started = performance.now();
  const marker = await startMarker();
  const home = await createGpgHome();
  const repo = await createRepoPair();
  const scratch = await mkdtemp(join(tmpdir(), 'fg-bench-b1-'));
  const svc = await startBenchService([MOUNT]);
  try {
    const key = await generateKey(home, { name: 'Deployer', email: 'deployer@example.test' });
    const signed = { sign: { home, key } };
    let n = 0;
    const pushSigned = async (): Promise<string> => {
      n++;
      const id = await commitFile(repo, 'message.txt', `push ${n}\n`, signed);
      await push(repo);
      return id;
    };
    await pushSigned();
    await svc.api('POST', `${MOUNT}/configure/trusted_pgp_public_key`, {
      name: 'deployer',
      public_key: await exportPublicKey(home, key),
    });
    await svc.api('POST', `${MOUNT}/configure`, {
      git_repo_url: `file://${repo.origin}`,
      git_branch_name: 'main',
      git_poll_period: '1h',
      required_number_of_verified_signatures_on_commit: '1',
      docker_image: image,
      commands: JSON.stringify([`wget -q -O /dev/null ${marker.url}`]),
    });
    const secret = randomBytes(24).toString('hex');
    await svc.api('POST', `${MOUNT}/configure/webhook/bench`, { source: 'generic', secret });
    const hookPath = String((await svc.api('GET', `${MOUNT}/configure/webhook/bench`)).hook_path);
    const lastCommit = async (): Promise<unknown> =>
      (await svc.api('GET', `${MOUNT}/status`)).last_successful_commit;

    const deliver = async (tip: string): Promise<number> => {
      const body = JSON.stringify({ ref: 'refs/heads/main', after: tip });
      const headers = {
        'content-type': 'application/json',
        'x-signature': hmacSignature(secret, body),
      };
      const t = await untilMarker(marker, () =>
        postDelivery(`${svc.addr}${hookPath}`, headers, body),
      );
      await waitFor(
        'the run to record the tip',
        async () => (await lastCommit()) === tip,
        60_000,
        20,
      );
      return t;
    };

    const floor = await createPushFloor({ origin: repo.origin, image, marker, scratch });
    const ours: number[] = [];
    const base: number[] = [];
    for (let i = -1; i < reps; i++) {
      const a = await deliver(await pushSigned());
      await pushSigned();
      const b = await floor.measure();
      if (i >= 0) {
        ours.push(a);
        base.push(b);
      }
    }
    const o = summarize(ours);
    const b = summarize(base);
    return {
      id: '1',
      title: 'Push → first command running (webhook)',
      method:
        `The service (startService, in-process, file store, Docker with network host) follows a ` +
        `local bare repository; 1 trusted key, N = 1. Per repetition: a signed commit is pushed ` +
        `(not timed), then the clock runs from sending a signed \`generic\` webhook delivery until ` +
        `the container's \`wget\` reaches a loopback marker server. The run includes the mirror ` +
        `fetch, signature check, tree export and container start. Floor: \`git ls-remote\` + ` +
        `\`git fetch\` of one new commit into a mirror + \`docker run --rm --network host\` of the ` +
        `same image running the same wget, until the marker. ${reps} repetitions after 1 warm-up.`,
      rows: [
        lowerIsBetter('median', 'ms', o.median, b.median, 'floor', 1.25),
        lowerIsBetter('p95', 'ms', o.p95, b.p95, 'floor', undefined),
      ],
      notes: [],
      raw: { ours, baseline: base, oursSummary: o, baselineSummary: b },
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await svc.stop();
    await marker.close();
    await repo.cleanup();
    await home.cleanup();
    await rm(scratch, { recursive: true, force: true });
  }
}
