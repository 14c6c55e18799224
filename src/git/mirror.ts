/**
 * The git adapter: a persistent bare mirror per mount over simple-git. One ls-remote per poll,
 * an incremental fetch of exactly the refs that moved, and local reads (ancestry, raw commits,
 * signature notes, tree export) that never touch the network or a worktree of the mirror.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AppError, invalidField } from '../errors.js';
import { createGitSlots, type GitSlots } from './concurrency.js';
import { baseGitEnv, remoteGitEnv, writeServiceGitConfig } from './env.js';
import { GitExitError, runGit, type GitCall } from './run.js';
import {
  isObjectId,
  notePathCandidates,
  parseRefLines,
  planFetch,
  storedRefIds,
  trackedRefNames,
  type TrackedRefNames,
} from './refs.js';
import type {
  GitCounters,
  GitMirror,
  GitMirrorFactory,
  GitRemoteSpec,
  OversizedNote,
  RemoteRefs,
} from './types.js';
import { NOTE_MAX_BYTES } from '../config/limits.js';
import { isValidBranchName } from '../config/rules/branch-name.js';
import { isSshUrl, parseGitUrl } from '../config/rules/git-url.js';

/** Options of the adapter (all have defaults). */
export interface GitMirrorOptions {
  /** Timeout of each git call; a call past it is killed and raises GIT_TIMEOUT. Default 60 s. */
  readonly timeoutMs?: number;
  /** Parent dir of short-lived temp dirs (SSH key material, export index). Default: OS temp. */
  readonly tmpDir?: string;
  /**
   * Local repositories (file:// remotes) owned by another user that git may read anyway
   * (`safe.directory`; `*` for all). Needs `configFile`, where they are written on first use.
   */
  readonly safeDirectories?: readonly string[];
  /** The service's own git config file (written here; default: none, i.e. /dev/null). */
  readonly configFile?: string;
  /** The bound on git processes alive at once, shared by every mirror (default: a new one). */
  readonly slots?: GitSlots;
  /** Told when a half-made mirror dir is found and rebuilt (for a log line). */
  readonly onRebuild?: (mirrorDir: string, missing: readonly string[]) => void;
}

/** Default per-call timeout. */
export const DEFAULT_GIT_TIMEOUT_MS = 60_000;

/**
 * Fetches run with `--no-auto-gc` (its `git maintenance run --auto` child costs a process per
 * poll); the mirror gets that same housekeeping after every this many fetches instead.
 */
export const FETCHES_PER_MAINTENANCE = 20;

/** Opens (and on first use creates) the bare mirror of a mount. */
export class SimpleGitMirrorFactory implements GitMirrorFactory {
  private readonly timeoutMs: number;
  private readonly tmpDir: string | undefined;
  /** Fetches per mirror dir since its last `maintenance run --auto` (this process only). */
  private readonly fetchesSinceMaintenance = new Map<string, number>();
  /** The service's git config, written once before the first git call (undefined: none). */
  private readonly globalConfig: () => Promise<string | undefined>;
  private readonly onRebuild: GitMirrorOptions['onRebuild'];
  /** Every git process of every mirror from this factory holds one of these slots. */
  readonly slots: GitSlots;

  constructor(opts: GitMirrorOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.slots = opts.slots ?? createGitSlots();
    this.onRebuild = opts.onRebuild;
    this.tmpDir = opts.tmpDir;
    const safe = opts.safeDirectories ?? [];
    const file = opts.configFile;
    let written: Promise<string | undefined> | undefined;
    this.globalConfig = () =>
      (written ??=
        safe.length === 0 || file === undefined
          ? Promise.resolve(undefined)
          : writeServiceGitConfig(file, safe));
  }

  async open(mirrorDir: string, spec: GitRemoteSpec): Promise<GitMirror> {
    if (parseGitUrl(spec.url) === undefined) {
      throw invalidField(
        'git_repo_url',
        'must be an http(s)://, ssh://, git://, file://, scp-style or absolute-path git URL',
      );
    }
    if (!isValidBranchName(spec.branch)) {
      throw invalidField('git_branch_name', 'must be a valid git branch name');
    }
    if (spec.auth.kind === 'ssh' && !isSshUrl(spec.url)) {
      throw invalidField('git_repo_url', 'an SSH key needs an ssh:// or scp-style URL');
    }
    if (spec.auth.kind === 'basic' && !/^https?:\/\//i.test(spec.url)) {
      throw invalidField('git_repo_url', 'a username and password need an http(s):// URL');
    }
    const globalConfig = await this.globalConfig();
    await ensureBareRepo(mirrorDir, this.timeoutMs, globalConfig, this.slots, (missing) =>
      this.onRebuild?.(mirrorDir, missing),
    );
    const afterFetch = (): boolean => {
      const n = (this.fetchesSinceMaintenance.get(mirrorDir) ?? 0) + 1;
      this.fetchesSinceMaintenance.set(mirrorDir, n % FETCHES_PER_MAINTENANCE);
      return n >= FETCHES_PER_MAINTENANCE;
    };
    return new SimpleGitMirror(
      mirrorDir,
      spec,
      this.timeoutMs,
      this.tmpDir,
      afterFetch,
      globalConfig,
      this.slots,
    );
  }
}

/** The files and dirs `git init --bare` makes that every later call needs. */
const BARE_REPO_PARTS = ['HEAD', 'config', 'objects', 'refs'];

/**
 * Make `dir` a bare repository. A new one is initialised in a `.tmp-*` sibling and renamed into
 * place, so a crash or a full disk never leaves a half-made mirror under the real name. A dir
 * that is there but is not a whole bare repository (a kill or ENOSPC during an older init, a
 * stray file) is our own leftover — mirrors live only below the data dir — and is rebuilt.
 */
async function ensureBareRepo(
  dir: string,
  timeoutMs: number,
  globalConfig: string | undefined,
  slots: GitSlots,
  onRebuild: (missing: readonly string[]) => void,
): Promise<void> {
  let entries: string[] | undefined;
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (entries !== undefined && entries.length > 0) {
    const missing = BARE_REPO_PARTS.filter((p) => !existsSync(join(dir, p)));
    if (missing.length === 0) return;
    onRebuild(missing);
  }
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, '.tmp-'));
  try {
    await runGit(tmp, { op: 'init', env: baseGitEnv(globalConfig), timeoutMs, slots }, (g) =>
      g.raw(['init', '--quiet', '--bare', '.']),
    );
    if (entries !== undefined) await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A file's text, or undefined when it does not exist (any other error is thrown). */
async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function requireObjectId(field: string, value: string): void {
  if (!isObjectId(value)) throw invalidField(field, 'must be a full hex object id');
}

class SimpleGitMirror implements GitMirror {
  private readonly names: TrackedRefNames;
  private readonly count: GitCounters = { lsRemote: 0, fetch: 0 };

  constructor(
    private readonly dir: string,
    private readonly spec: GitRemoteSpec,
    private readonly timeoutMs: number,
    private readonly tmpDir: string | undefined,
    /** Counts a fetch; true when the mirror is due for housekeeping. */
    private readonly afterFetch: () => boolean,
    /** The service's git config file (safe.directory entries), if any. */
    private readonly globalConfig: string | undefined,
    private readonly slots: GitSlots,
  ) {
    this.names = trackedRefNames(spec.branch);
  }

  get counters(): Readonly<GitCounters> {
    return { ...this.count };
  }

  private local(op: string, extra: Partial<GitCall> = {}): GitCall {
    return {
      op,
      env: baseGitEnv(this.globalConfig),
      timeoutMs: this.timeoutMs,
      slots: this.slots,
      ...extra,
    };
  }

  /** Run a call against the remote with its credentials, removing key material afterwards. */
  private async remote(op: string, args: string[]): Promise<string> {
    const call = await remoteGitEnv(this.spec.auth, {
      timeoutMs: this.timeoutMs,
      ...(this.tmpDir !== undefined ? { tmpDir: this.tmpDir } : {}),
      ...(this.globalConfig !== undefined ? { globalConfig: this.globalConfig } : {}),
    });
    try {
      const spec: GitCall = {
        op,
        env: call.env,
        timeoutMs: this.timeoutMs,
        url: this.spec.url,
        secrets: call.secrets,
        slots: this.slots,
      };
      return await runGit(this.dir, spec, (g) => g.raw(args));
    } finally {
      await call.dispose();
    }
  }

  async lsRemote(): Promise<RemoteRefs> {
    this.count.lsRemote++;
    const n = this.names;
    const out = await this.remote('ls-remote', [
      'ls-remote',
      this.spec.url,
      n.branch,
      n.notes,
      n.latestSignatureTag,
      `${n.latestSignatureTag}^{}`,
    ]);
    return parseRefLines(out, n);
  }

  async localRefs(): Promise<RemoteRefs> {
    const n = this.names;
    const out = await runGit(this.dir, this.local('for-each-ref'), (g) =>
      g.raw([
        'for-each-ref',
        '--format=%(objectname) %(refname)%0a%(*objectname) %(refname)^{}',
        n.branch,
        n.notes,
        n.latestSignatureTag,
      ]),
    );
    return parseRefLines(out, n);
  }

  /**
   * The three refs as stored, without peeling (all a fetch plan needs), read from the ref files
   * of the mirror (we create it: files backend) instead of a `for-each-ref` process; anything
   * unexpected (reftable, a symbolic ref, an unreadable file) falls back to asking git.
   */
  private async storedRefs(): Promise<RemoteRefs> {
    const n = this.names;
    const wanted = [n.branch, n.notes, n.latestSignatureTag];
    try {
      if (existsSync(join(this.dir, 'reftable'))) return await this.localRefs();
      const loose = new Map<string, string | undefined>();
      for (const name of wanted) loose.set(name, await readOptional(join(this.dir, name)));
      const ids = storedRefIds(
        wanted,
        loose,
        (await readOptional(join(this.dir, 'packed-refs'))) ?? '',
      );
      if (ids === undefined) return await this.localRefs();
      const branch = ids.get(n.branch);
      const notes = ids.get(n.notes);
      const tag = ids.get(n.latestSignatureTag);
      return {
        ...(branch !== undefined ? { branch } : {}),
        ...(notes !== undefined ? { notes } : {}),
        ...(tag !== undefined ? { latestSignatureTag: tag } : {}),
      };
    } catch (e) {
      if (e instanceof AppError) throw e;
      return this.localRefs();
    }
  }

  async fetch(refs: RemoteRefs): Promise<void> {
    const plan = planFetch(refs, await this.storedRefs(), this.names);
    for (const ref of plan.deletions) {
      await runGit(this.dir, this.local('update-ref'), (g) => g.raw(['update-ref', '-d', ref]));
    }
    if (plan.refspecs.length === 0) return;
    this.count.fetch++;
    await this.remote('fetch', [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      '--no-auto-gc',
      '--no-show-forced-updates',
      this.spec.url,
      ...plan.refspecs,
    ]);
    if (this.afterFetch()) {
      await runGit(this.dir, this.local('maintenance'), (g) =>
        g.raw(['maintenance', 'run', '--auto', '--quiet']),
      );
    }
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    requireObjectId('ancestor', ancestor);
    requireObjectId('descendant', descendant);
    try {
      await runGit(this.dir, this.local('merge-base', { answerExitCodes: [1] }), (g) =>
        g.raw(['merge-base', '--is-ancestor', ancestor, descendant]),
      );
      return true;
    } catch (e) {
      if (e instanceof GitExitError && e.exitCode === 1) return false;
      // A commit the repository does not have (its URL changed, history rewritten): a person
      // must act, retrying cannot help. Checked only after a failure, so the usual path costs
      // no extra git call.
      for (const [field, id] of [
        ['ancestor', ancestor],
        ['descendant', descendant],
      ] as const) {
        if ((await this.peelToCommit(id)) === undefined) {
          throw new AppError('GIT_UNKNOWN_COMMIT', `commit ${id} is not in the repository`, {
            details: { field, commit: id },
            cause: e,
          });
        }
      }
      throw e;
    }
  }

  async readCommit(commit: string): Promise<Uint8Array> {
    requireObjectId('commit', commit);
    return runGit(this.dir, this.local('cat-file'), (g) => g.binaryCatFile(['commit', commit]));
  }

  /** The object a ref peels to, or undefined when the ref does not exist. */
  private async peelToCommit(ref: string): Promise<string | undefined> {
    try {
      const out = await runGit(this.dir, this.local('rev-parse', { answerExitCodes: [1] }), (g) =>
        g.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]),
      );
      return out.trim();
    } catch (e) {
      if (e instanceof GitExitError) return undefined;
      throw e;
    }
  }

  async readSignatureNotes(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | OversizedNote | undefined> {
    requireObjectId('commit', commit);
    const ref = source === 'notes-ref' ? this.names.notes : this.names.latestSignatureTag;
    const notesCommit = await this.peelToCommit(ref);
    if (notesCommit === undefined) return undefined;
    // `-l` lists each blob's size, so a pusher's oversized note is measured, never read.
    const listing = await runGit(this.dir, this.local('ls-tree'), (g) =>
      g.raw(['ls-tree', '-l', '-z', notesCommit, '--', ...notePathCandidates(commit)]),
    );
    for (const entry of listing.split('\0')) {
      const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t(.+)$/.exec(entry);
      if (m?.[1] === undefined || m[3]?.replace(/\//g, '') !== commit) continue;
      const blob = m[1];
      const size = Number(m[2]);
      if (size > NOTE_MAX_BYTES) return { oversizedBytes: size };
      const bytes = await runGit(this.dir, this.local('cat-file'), (g) =>
        g.binaryCatFile(['blob', blob]),
      );
      return bytes.toString('utf8');
    }
    return undefined;
  }

  async exportTree(commit: string, dir: string): Promise<void> {
    requireObjectId('commit', commit);
    if ((await readdir(dir)).length !== 0) {
      throw new AppError('INTERNAL', 'exportTree: the target directory is not empty', {
        details: { dir },
      });
    }
    // A throw-away index: the mirror's own (bare, index-less) state is never touched.
    const tmp = await mkdtemp(join(this.tmpDir ?? tmpdir(), 'fg-git-export-'));
    try {
      const env = { ...baseGitEnv(this.globalConfig), GIT_INDEX_FILE: join(tmp, 'index') };
      await runGit(this.dir, this.local('checkout', { env }), (g) =>
        g.raw(['--work-tree', dir, 'checkout', '--no-overlay', commit, '--', '.']),
      );
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
