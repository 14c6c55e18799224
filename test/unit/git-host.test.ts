/**
 * The git host's protocol without a process: HostedGitMirrorFactory (the service's side) talks to
 * serveGitHost (the host's side) over an in-memory pipe that copies every message with the V8
 * serializer, as Node's 'advanced' IPC serialization does. The host's factory is a fake at our own
 * interface (GitMirrorFactory); a host "dies" when the test says so.
 */
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { HostedGitMirrorFactory } from '../../src/git/host/client.js';
import type { HostConnection } from '../../src/git/host/fork.js';
import {
  errorFromWire,
  errorToWire,
  type HostMessage,
  type HostRequest,
  type SlotStats,
} from '../../src/git/host/protocol.js';
import { serveGitHost } from '../../src/git/host/serve.js';
import type {
  GitCounters,
  GitMirror,
  GitMirrorFactory,
  GitRemoteSpec,
} from '../../src/git/types.js';

const TIP = 'a'.repeat(40);
const SPEC: GitRemoteSpec = { url: 'file:///repo.git', branch: 'main', auth: { kind: 'none' } };

/** A fetch that stays in flight until released (to kill a host mid-call). */
function gate() {
  let release = (): void => undefined;
  const done = new Promise<void>((r) => (release = r));
  return { done, release: () => release() };
}

/** One fake host process: the real serveGitHost over a fake factory. */
interface FakeHost {
  readonly pid: number;
  readonly opened: { dir: string; spec: GitRemoteSpec }[];
  readonly received: HostRequest[];
  /** The process ends (as if killed by `signal`): nothing more is delivered either way. */
  die(signal: string): void;
}

interface Scenario {
  readonly hosts: FakeHost[];
  readonly factory: HostedGitMirrorFactory;
  /** The fetch of every fake mirror waits for this gate when set. */
  fetchGate?: ReturnType<typeof gate>;
  slots: SlotStats;
  rebuilt: { dir: string; missing: readonly string[] }[];
  exits: { signal: string | null; failedCalls: number }[];
}

const copy = <T>(v: T): T => deserialize(serialize(v)) as T;

function fakeMirror(s: Scenario): GitMirror {
  const count: GitCounters = { lsRemote: 0, fetch: 0 };
  return {
    get counters() {
      return { ...count };
    },
    lsRemote() {
      count.lsRemote++;
      return Promise.resolve({ branch: TIP });
    },
    async fetch() {
      count.fetch++;
      await s.fetchGate?.done;
    },
    localRefs: () => Promise.resolve({}),
    isAncestor(_a, d) {
      if (d === TIP) return Promise.resolve(true);
      return Promise.reject(
        new AppError('GIT_UNKNOWN_COMMIT', `commit ${d} is not in the repository`, {
          details: { field: 'descendant', commit: d },
          cause: new AppError('GIT_FAILED', 'git merge-base: git failed: exit code 128', {
            details: { op: 'merge-base', exitCode: 128 },
          }),
        }),
      );
    },
    readCommit: () => Promise.resolve(Buffer.from('tree 0\n\nmsg\n')),
    readSignatureNotes: () => Promise.resolve({ oversizedBytes: 70_000 }),
    exportTree: (_c, target) =>
      Promise.reject(
        Object.assign(new Error(`ENOENT: no such file or directory, scandir '${target}'`), {
          code: 'ENOENT',
        }),
      ),
  };
}

function scenario(): Scenario {
  const hosts: FakeHost[] = [];
  let nextPid = 1000;
  const start = (): HostConnection => {
    let alive = true;
    let toService: ((m: HostMessage) => void) | undefined;
    let toHost: ((m: HostRequest) => void) | undefined;
    const exitHandlers: ((code: number | null, signal: string | null) => void)[] = [];
    const host: FakeHost = {
      pid: nextPid++,
      opened: [],
      received: [],
      die(signal) {
        if (!alive) return;
        alive = false;
        for (const h of exitHandlers) h(null, signal);
      },
    };
    const factory: GitMirrorFactory = {
      open(dir, spec) {
        host.opened.push({ dir, spec });
        if (dir.endsWith('bad')) {
          return Promise.reject(
            new AppError('INVALID_INPUT', 'git_repo_url: must be a git URL', {
              details: { field: 'git_repo_url' },
            }),
          );
        }
        return Promise.resolve(fakeMirror(s));
      },
    };
    serveGitHost(
      {
        send: (m) => setImmediate(() => alive && toService?.(copy(m))),
        onMessage: (h) => (toHost = h),
      },
      (_init, onRebuild) => {
        onRebuild('/mirrors/half', ['HEAD']);
        return { factory, slots: () => s.slots };
      },
    );
    hosts.push(host);
    return {
      pid: host.pid,
      send(m, onError) {
        if (!alive) return onError(new Error('channel closed'));
        host.received.push(copy(m));
        setImmediate(() => alive && toHost?.(copy(m)));
      },
      onMessage: (h) => (toService = h),
      onExit: (h) => void exitHandlers.push(h),
      ref: () => undefined,
      close: () => {
        host.die('SIGKILL');
        return Promise.resolve();
      },
    };
  };
  const s: Scenario = {
    hosts,
    slots: { limit: 8, active: 0, waiting: 0, maxActive: 0 },
    rebuilt: [],
    exits: [],
    factory: new HostedGitMirrorFactory({
      start,
      restartDelayMs: 0,
      concurrency: 8,
      onRebuild: (dir, missing) => s.rebuilt.push({ dir, missing }),
      onHostExit: (i) => s.exits.push({ signal: i.signal, failedCalls: i.failedCalls }),
    }),
  };
  return s;
}

describe('git host protocol', () => {
  it('answers each mirror method with the host mirror’s value; bytes stay bytes', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    expect(await m.lsRemote()).toEqual({ branch: TIP });
    expect(await m.isAncestor(TIP, TIP)).toBe(true);
    expect(await m.localRefs()).toEqual({});
    expect(await m.readSignatureNotes(TIP, 'notes-ref')).toEqual({ oversizedBytes: 70_000 });
    const raw = await m.readCommit(TIP);
    expect(raw).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(raw).toString('utf8')).toBe('tree 0\n\nmsg\n');
    // One host; the init message first, and the credentials only ever inside an open message.
    expect(s.hosts).toHaveLength(1);
    expect(s.hosts[0]?.received[0]).toMatchObject({ t: 'init', concurrency: 8 });
    expect(s.hosts[0]?.opened).toEqual([{ dir: '/mirrors/m1', spec: SPEC }]);
  });

  it('an AppError arrives with its code, reason, details, next step and cause', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    const other = 'b'.repeat(40);
    const e = await m.isAncestor(TIP, other).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    const app = e as AppError;
    expect(app.code).toBe('GIT_UNKNOWN_COMMIT');
    expect(app.reason).toBe(`commit ${other} is not in the repository`);
    expect(app.message).toBe(app.reason);
    expect(app.details).toEqual({ field: 'descendant', commit: other });
    expect(app.next).toBe('user');
    expect(app.cause).toBeInstanceOf(AppError);
    expect((app.cause as AppError).code).toBe('GIT_FAILED');
    expect((app.cause as AppError).details).toEqual({ op: 'merge-base', exitCode: 128 });
  });

  it('a failed open is the host factory’s error (INVALID_INPUT naming the field)', async () => {
    const s = scenario();
    const e = await s.factory.open('/mirrors/bad', SPEC).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'git_repo_url' } });
  });

  it('any other error arrives as an Error with its name, message and errno code', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    const e = await m.exportTree(TIP, '/nowhere').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(AppError);
    expect(e).toMatchObject({
      name: 'Error',
      code: 'ENOENT',
      message: "ENOENT: no such file or directory, scandir '/nowhere'",
    });
  });

  it('counters follow the host mirror’s, and add up across a host that died', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    await m.lsRemote();
    await m.fetch({ branch: TIP });
    await m.lsRemote();
    expect(m.counters).toEqual({ lsRemote: 2, fetch: 1 });
    s.hosts[0]?.die('SIGKILL');
    await m.lsRemote();
    // The new host counted one ls-remote from zero; the mirror reports the sum.
    expect(m.counters).toEqual({ lsRemote: 3, fetch: 1 });
  });

  it('slot use comes with every reply; maxActive is the largest ever reported', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    s.slots = { limit: 8, active: 3, waiting: 5, maxActive: 8 };
    await m.lsRemote();
    expect(s.factory.slots).toEqual({ limit: 8, active: 3, waiting: 5, maxActive: 8 });
    s.slots = { limit: 8, active: 0, waiting: 0, maxActive: 2 };
    await m.lsRemote();
    expect(s.factory.slots).toEqual({ limit: 8, active: 0, waiting: 0, maxActive: 8 });
  });

  it('a host that dies mid-call fails the call with GIT_FAILED; the next call starts a new host', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    s.fetchGate = gate();
    const inFlight = m.fetch({ branch: TIP }).catch((x: unknown) => x);
    await new Promise((r) => setTimeout(r, 5));
    s.hosts[0]?.die('SIGKILL');
    const e = await inFlight;
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({
      code: 'GIT_FAILED',
      next: 'retry-later',
      details: { op: 'fetch', hostPid: 1000, signal: 'SIGKILL' },
    });
    expect((e as AppError).reason).toMatch(/git host process ended \(killed by SIGKILL\)/);
    expect(s.exits).toEqual([{ signal: 'SIGKILL', failedCalls: 1 }]);
    s.fetchGate.release();
    // The next call: a second host, where the mirror is opened again before its call.
    expect(await m.lsRemote()).toEqual({ branch: TIP });
    expect(s.hosts).toHaveLength(2);
    expect(s.hosts[1]?.opened).toEqual([{ dir: '/mirrors/m1', spec: SPEC }]);
  });

  it('rebuild notices reach onRebuild', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    await m.lsRemote();
    expect(s.rebuilt).toEqual([{ dir: '/mirrors/half', missing: ['HEAD'] }]);
  });

  it('after close the host is gone and calls fail instead of starting another', async () => {
    const s = scenario();
    const m = await s.factory.open('/mirrors/m1', SPEC);
    await s.factory.close();
    await expect(m.lsRemote()).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(s.hosts).toHaveLength(1);
    // A close is not a crash: no exit notice.
    expect(s.exits).toEqual([]);
  });
});

describe('git host, its side alone', () => {
  it('forgets a mirror on a close message: a later call on it is refused', async () => {
    const replies: HostMessage[] = [];
    let deliver: (m: HostRequest) => void = () => undefined;
    const served = serveGitHost(
      { send: (m) => replies.push(copy(m)), onMessage: (h) => (deliver = h) },
      () => ({
        factory: { open: () => Promise.resolve(fakeMirror(scenario())) },
        slots: () => ({ limit: 1, active: 0, waiting: 0, maxActive: 0 }),
      }),
    );
    const settle = () => new Promise((r) => setImmediate(r));
    deliver({ t: 'init' });
    deliver({ t: 'open', id: 1, handle: 7, dir: '/m', spec: SPEC });
    await settle();
    expect(served.openMirrors()).toBe(1);
    deliver({ t: 'close', handle: 7 });
    expect(served.openMirrors()).toBe(0);
    deliver({ t: 'call', id: 2, handle: 7, method: 'lsRemote', args: [] });
    await settle();
    expect(replies.map((r) => r.t === 'reply' && r.ok)).toEqual([true, false]);
    expect(replies[1]).toMatchObject({
      error: { code: 'INTERNAL', message: 'git host: no mirror is open as handle 7' },
    });
  });
});

describe('errors on the wire', () => {
  it.each([
    ['an AppError', new AppError('GIT_TIMEOUT', 'git fetch: no result', { details: { op: 'f' } })],
    ['a TypeError', new TypeError('x is not a function')],
    ['a thrown string', 'plain text'],
  ])('%s survives the V8 serializer', (_name, e) => {
    const back = errorFromWire(copy(errorToWire(e)));
    if (e instanceof AppError) {
      expect(back).toBeInstanceOf(AppError);
      expect(back).toMatchObject({ code: e.code, reason: e.reason, details: e.details });
    } else if (e instanceof Error) {
      expect(back).toMatchObject({ name: e.name, message: e.message });
    } else {
      expect(back.message).toBe(e);
    }
  });

  it('an AppError with a code this side does not know becomes a plain Error', () => {
    const back = errorFromWire({ name: 'AppError', message: 'm', code: 'NO_SUCH_CODE' });
    expect(back).not.toBeInstanceOf(AppError);
    expect(back.message).toBe('m');
  });
});
