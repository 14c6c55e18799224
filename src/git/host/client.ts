/**
 * The service's side of the git host: a GitMirrorFactory whose mirrors run every call in ONE
 * long-lived child process (host/main.ts) instead of forking git from the service. The host is
 * started on the first call; when it dies (killed, out of memory) the calls in flight fail with
 * GIT_FAILED — retried by the next poll like any failed git call — and the next call starts a
 * new one, where each mirror is opened again before its first call. `close()` ends it.
 */
import { AppError } from '../../errors.js';
import type { GitMirrorOptions } from '../mirror.js';
import type {
  GitCounters,
  GitMirror,
  GitMirrorFactory,
  GitRemoteSpec,
  OversizedNote,
  RemoteRefs,
} from '../types.js';
import { forkGitHost, type HostConnection } from './fork.js';
import {
  errorFromWire,
  type HostInit,
  type HostMessage,
  type CallRequest,
  type HostReply,
  type MirrorMethod,
  type OpenRequest,
  type SlotStats,
} from './protocol.js';

/** Options of the hosted factory: those of SimpleGitMirrorFactory, plus how to start a host. */
export interface GitHostOptions extends Pick<
  GitMirrorOptions,
  'timeoutMs' | 'tmpDir' | 'safeDirectories' | 'configFile' | 'onRebuild'
> {
  /** The bound on git processes alive at once in the host (`--git-concurrency`). */
  readonly concurrency?: number;
  /** Told when a host process ended other than by `close()` (for a log line). */
  readonly onHostExit?: (info: HostExitInfo) => void;
  /** Starts a host (default: fork host/main.ts); tests pass an in-memory one. */
  readonly start?: () => HostConnection;
  /** A host that lived shorter than this is not restarted sooner than this after it started. */
  readonly restartDelayMs?: number;
}

/** How a host process ended. */
export interface HostExitInfo {
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: string | null;
  /** Calls that were in flight and failed. */
  readonly failedCalls: number;
}

interface Pending {
  readonly op: string;
  readonly resolve: (reply: HostReply) => void;
  readonly reject: (e: Error) => void;
}

/** One started host: its connection, generation number and calls in flight. */
interface Host {
  readonly conn: HostConnection;
  readonly generation: number;
  readonly pending: Map<number, Pending>;
}

/** Slot use of the host, as of its last reply (the service's git process gauges read this). */
export interface HostedSlots {
  readonly limit: number;
  readonly active: number;
  readonly waiting: number;
  readonly maxActive: number;
}

const CLOSE_GRACE_MS = 2000;

/** A GitMirrorFactory over the git host process. */
export class HostedGitMirrorFactory implements GitMirrorFactory {
  private host: Host | undefined;
  private generations = 0;
  private lastStart = Number.NEGATIVE_INFINITY;
  private nextId = 1;
  private nextHandle = 1;
  private closed = false;
  private stats: SlotStats;
  private maxActiveSeen = 0;
  private readonly init: HostInit;
  private readonly start: () => HostConnection;
  private readonly restartDelayMs: number;

  constructor(private readonly opts: GitHostOptions = {}) {
    this.init = {
      t: 'init',
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      ...(opts.tmpDir === undefined ? {} : { tmpDir: opts.tmpDir }),
      ...(opts.safeDirectories === undefined ? {} : { safeDirectories: [...opts.safeDirectories] }),
      ...(opts.configFile === undefined ? {} : { configFile: opts.configFile }),
      ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
    };
    this.start = opts.start ?? forkGitHost;
    this.restartDelayMs = opts.restartDelayMs ?? 1000;
    this.stats = { limit: opts.concurrency ?? 0, active: 0, waiting: 0, maxActive: 0 };
  }

  /** The host's git slots as of its last reply (`maxActive`: the largest over every host). */
  get slots(): HostedSlots {
    const s = this.stats;
    return { limit: s.limit, active: s.active, waiting: s.waiting, maxActive: this.maxActiveSeen };
  }

  /** The pid of the running host, if one runs (tests, the benchmark). */
  get hostPid(): number | undefined {
    return this.host?.conn.pid;
  }

  async open(mirrorDir: string, spec: GitRemoteSpec): Promise<GitMirror> {
    const handle = this.nextHandle++;
    const mirror = new HostedGitMirror(this.channel, handle, mirrorDir, spec);
    // The pipeline opens a mirror per poll and drops it after: the host forgets it then too.
    this.dropped.register(mirror, handle);
    await mirror.ensureOpen();
    return mirror;
  }

  /** What a mirror needs of its factory. */
  private readonly channel: Channel = {
    host: () => this.current(),
    request: (host, op, build) => this.request(host, op, build),
  };

  private readonly dropped = new FinalizationRegistry<number>((handle) => {
    const host = this.host;
    // Only a running host holds it (a new host never saw it): never start one for this.
    host?.conn.send({ t: 'close', handle }, () => undefined);
  });

  /** End the host (its git processes too); later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const host = this.host;
    this.host = undefined;
    if (host) {
      host.conn.ref(false);
      await host.conn.close(CLOSE_GRACE_MS);
    }
  }

  /** The running host, or a new one (not sooner than restartDelayMs after the last start). */
  private async current(): Promise<Host> {
    if (this.closed) throw new AppError('INTERNAL', 'git host: the service is stopping');
    if (this.host) return this.host;
    const wait = this.lastStart + this.restartDelayMs - Date.now();
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, wait));
      return this.current();
    }
    this.lastStart = Date.now();
    let conn: HostConnection;
    try {
      conn = this.start();
    } catch (e) {
      throw new AppError(
        'GIT_FAILED',
        `the git host process could not be started: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    const host: Host = {
      conn,
      generation: ++this.generations,
      pending: new Map(),
    };
    this.host = host;
    conn.ref(false);
    conn.onMessage((m) => this.received(host, m));
    conn.onExit((code, signal) => this.ended(host, code, signal));
    conn.send(this.init, () => this.lost(host));
    return host;
  }

  private received(host: Host, m: HostMessage): void {
    if (m.t === 'rebuild') {
      this.opts.onRebuild?.(m.mirrorDir, m.missing);
      return;
    }
    const p = host.pending.get(m.id);
    if (p === undefined) return;
    host.pending.delete(m.id);
    if (host.pending.size === 0) host.conn.ref(false);
    if (host === this.host) {
      this.stats = m.slots;
      this.maxActiveSeen = Math.max(this.maxActiveSeen, m.slots.maxActive);
    }
    p.resolve(m);
  }

  /** The channel broke: the process is as good as dead (its exit follows). */
  private lost(host: Host): void {
    void host.conn.close(0);
  }

  private ended(host: Host, code: number | null, signal: string | null): void {
    if (this.host === host) {
      this.host = undefined;
      this.stats = { ...this.stats, active: 0, waiting: 0 };
    }
    const how = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
    const failed = [...host.pending.values()];
    host.pending.clear();
    for (const p of failed) {
      p.reject(
        new AppError(
          'GIT_FAILED',
          `git ${p.op}: the git host process ended (${how}) during the call; ` +
            'a new one starts with the next call',
          {
            details: {
              op: p.op,
              hostPid: host.conn.pid,
              ...(code === null ? {} : { exitCode: code }),
              ...(signal === null ? {} : { signal }),
            },
          },
        ),
      );
    }
    if (!this.closed) {
      this.opts.onHostExit?.({ pid: host.conn.pid, code, signal, failedCalls: failed.length });
    }
  }

  /** Send one request to the host and wait for its reply. */
  private async request(
    host: Host,
    op: string,
    build: (id: number) => OpenRequest | CallRequest,
  ): Promise<HostReply> {
    const id = this.nextId++;
    return new Promise<HostReply>((resolve, reject) => {
      host.pending.set(id, { op, resolve, reject });
      if (host.pending.size === 1) host.conn.ref(true);
      host.conn.send(build(id), () => this.lost(host));
    });
  }
}

/** What a mirror's proxy needs of its factory: the host for a call, and a request to it. */
interface Channel {
  host(): Promise<Host>;
  request(
    host: Host,
    op: string,
    build: (id: number) => OpenRequest | CallRequest,
  ): Promise<HostReply>;
}

class HostedGitMirror implements GitMirror {
  /** Counters of hosts that are gone, and of the current host as of its last reply. */
  private past: GitCounters = { lsRemote: 0, fetch: 0 };
  private now: GitCounters = { lsRemote: 0, fetch: 0 };
  /** The host generation this mirror is open in, and the open in flight. */
  private openIn: { generation: number; done: Promise<void> } | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly handle: number,
    private readonly dir: string,
    private readonly spec: GitRemoteSpec,
  ) {}

  get counters(): Readonly<GitCounters> {
    return {
      lsRemote: this.past.lsRemote + this.now.lsRemote,
      fetch: this.past.fetch + this.now.fetch,
    };
  }

  /** Open this mirror in the current host unless it already is; returns that host. */
  async ensureOpen(): Promise<Host> {
    const host = await this.channel.host();
    if (this.openIn?.generation !== host.generation) {
      // A new host starts from zero counts.
      this.past = this.counters;
      this.now = { lsRemote: 0, fetch: 0 };
      const done = this.channel
        .request(host, 'open', (id) => ({
          t: 'open',
          id,
          handle: this.handle,
          dir: this.dir,
          spec: this.spec,
        }))
        .then((reply) => {
          if (!reply.ok) throw errorFromWire(reply.error);
        });
      this.openIn = { generation: host.generation, done };
      done.catch(() => {
        if (this.openIn?.done === done) this.openIn = undefined;
      });
    }
    await this.openIn?.done;
    return host;
  }

  private async call(method: MirrorMethod, op: string, args: unknown[]): Promise<unknown> {
    const host = await this.ensureOpen();
    const reply = await this.channel.request(host, op, (id) => ({
      t: 'call',
      id,
      handle: this.handle,
      method,
      args,
    }));
    if (reply.counters !== undefined && this.openIn?.generation === host.generation) {
      this.now = reply.counters;
    }
    if (!reply.ok) throw errorFromWire(reply.error);
    return reply.value;
  }

  async lsRemote(): Promise<RemoteRefs> {
    return (await this.call('lsRemote', 'ls-remote', [])) as RemoteRefs;
  }

  async fetch(refs: RemoteRefs): Promise<void> {
    await this.call('fetch', 'fetch', [refs]);
  }

  async localRefs(): Promise<RemoteRefs> {
    return (await this.call('localRefs', 'for-each-ref', [])) as RemoteRefs;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return (await this.call('isAncestor', 'merge-base', [ancestor, descendant])) as boolean;
  }

  async readCommit(commit: string): Promise<Uint8Array> {
    return (await this.call('readCommit', 'cat-file', [commit])) as Uint8Array;
  }

  async readSignatureNotes(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | OversizedNote | undefined> {
    return (await this.call('readSignatureNotes', 'notes', [commit, source])) as
      string | OversizedNote | undefined;
  }

  async exportTree(commit: string, dir: string): Promise<void> {
    await this.call('exportTree', 'checkout', [commit, dir]);
  }
}
