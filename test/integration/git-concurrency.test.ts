/**
 * The bound on git processes, with real git: 200 mounts asked to poll in the same instant (a
 * flux-recv webhook triggers every mount) run through the real scheduler and the real mirror
 * factory, and the git processes are counted from /proc while they run. Counted: direct children
 * whose command is git (each one call; a local ls-remote's upload-pack is that call's own child
 * and not counted separately) — of the git host process for the service's factory (and none of
 * this process, which must never fork git itself), of this process for the in-process factory
 * the plugin uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGitSlots,
  HostedGitMirrorFactory,
  SimpleGitMirrorFactory,
  type GitMirrorFactory,
  type RemoteRefs,
} from '../../src/git/index.js';
import { silentLogger } from '../../src/logging.js';
import { createScheduler, type PollTarget } from '../../src/scheduler/scheduler.js';
import { commitFiles, initBare, initWork, push, removeDir, tempDir } from '../helpers/git-cli.js';

const MOUNTS = 200;
const LIMIT = 4;

/** git processes whose parent is `parent`, right now. */
function gitChildren(parent: number): number {
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
    if (ppid === parent && comm.startsWith('git')) n++;
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

/** A factory bounded to LIMIT, where its git runs, and its slot use. */
interface Subject {
  readonly factory: GitMirrorFactory;
  /** The process whose git children are counted (read after the first call). */
  readonly gitParent: () => number;
  readonly slots: () => { readonly active: number; readonly maxActive: number };
  readonly close: () => Promise<void>;
}

const subjects: readonly [string, (dir: string) => Subject][] = [
  [
    'in the git host process (the service)',
    (dir) => {
      const factory = new HostedGitMirrorFactory({ concurrency: LIMIT, tmpDir: dir });
      return {
        factory,
        gitParent: () => factory.hostPid ?? -1,
        slots: () => factory.slots,
        close: () => factory.close(),
      };
    },
  ],
  [
    'in this process (the plugin)',
    (dir) => {
      const slots = createGitSlots(LIMIT);
      return {
        factory: new SimpleGitMirrorFactory({ slots, tmpDir: dir }),
        gitParent: () => process.pid,
        slots: () => slots,
        close: () => Promise.resolve(),
      };
    },
  ],
];

describe.each(subjects)('git concurrency across mounts, git %s', (name, make) => {
  it(`never has more than ${LIMIT} git processes alive when ${MOUNTS} mounts poll together`, async () => {
    const subject = make(root);
    const { factory } = subject;
    const mirrors = join(root, `mirrors-${name.length}`);
    const seen: RemoteRefs[] = [];
    const targets = new Map<string, PollTarget>();
    for (let i = 0; i < MOUNTS; i++) {
      targets.set(`m${i}`, {
        pollPeriodSeconds: () => Promise.resolve(60),
        lastPollAt: () => Promise.resolve(undefined),
        async poll() {
          // What a first poll does: create the mirror, ls-remote, fetch, read a local ref.
          const mirror = await factory.open(join(mirrors, `m${i}`), {
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
    /** git processes that are children of this process, when git runs elsewhere. */
    const here: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const parent = subject.gitParent();
        samples.push(gitChildren(parent));
        if (parent !== process.pid) here.push(gitChildren(process.pid));
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
    expect(subject.slots().maxActive).toBe(LIMIT);
    expect(subject.slots().active).toBe(0);
    // With a host, this process never ran git itself.
    expect(here.every((n) => n === 0)).toBe(true);
    await subject.close();
  });
});
