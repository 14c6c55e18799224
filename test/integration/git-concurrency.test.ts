/**
 * The bound on git processes, with real git: 200 mounts asked to poll in the same instant (a
 * flux-recv webhook triggers every mount) run through the real scheduler and the real mirror
 * factory, and the git processes this process spawned are counted from /proc while they run.
 * Counted: direct children of this process whose command is git (each one call; a local
 * ls-remote's upload-pack is that call's own child and not counted separately).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitSlots, SimpleGitMirrorFactory, type RemoteRefs } from '../../src/git/index.js';
import { silentLogger } from '../../src/logging.js';
import { createScheduler, type PollTarget } from '../../src/scheduler/scheduler.js';
import { commitFiles, initBare, initWork, push, removeDir, tempDir } from '../helpers/git-cli.js';

const MOUNTS = 200;
const LIMIT = 4;

/** git processes whose parent is this process, right now. */
function gitChildren(): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid … — comm may hold spaces, so split after the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid && comm.startsWith('git')) n++;
  }
  return n;
}

let root: string;
let origin: string;
let tip: string;

beforeAll(async () => {
  root = tempDir('git-concurrency');
  origin = await initBare(root);
  const work = await initWork(root, origin);
  tip = await commitFiles(work, { 'a.txt': 'a' });
  await push(work, 'main');
});

afterAll(() => removeDir(root));

describe('git concurrency across mounts', () => {
  it(`never has more than ${LIMIT} git processes alive when ${MOUNTS} mounts poll together`, async () => {
    const slots = createGitSlots(LIMIT);
    const factory = new SimpleGitMirrorFactory({ slots });
    const seen: RemoteRefs[] = [];
    const targets = new Map<string, PollTarget>();
    for (let i = 0; i < MOUNTS; i++) {
      targets.set(`m${i}`, {
        pollPeriodSeconds: () => Promise.resolve(60),
        lastPollAt: () => Promise.resolve(undefined),
        async poll() {
          // What a first poll does: create the mirror, ls-remote, fetch, read a local ref.
          const mirror = await factory.open(join(root, 'mirrors', `m${i}`), {
            url: origin,
            branch: 'main',
            auth: { kind: 'none' },
          });
          const refs = await mirror.lsRemote();
          await mirror.fetch(refs);
          seen.push(await mirror.localRefs());
        },
      });
    }
    const scheduler = createScheduler({
      targets: () => targets,
      ticker: { start: () => undefined, stop: () => undefined },
      logger: silentLogger(),
    });

    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(gitChildren());
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (const mount of targets.keys()) scheduler.requestPoll(mount, 'flux-recv webhook');
    await scheduler.whenIdle();
    sampling = false;
    await sampler;

    expect(seen).toHaveLength(MOUNTS);
    expect(seen.every((r) => r.branch === tip)).toBe(true);
    // The sampler saw git running, and never more than the bound.
    expect(Math.max(...samples)).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(LIMIT);
    // The bound was really pressed against: every slot was in use at some point.
    expect(slots.maxActive).toBe(LIMIT);
    expect(slots.active).toBe(0);
  });
});
