/**
 * Fakes at our own interfaces (GitMirror, SignatureVerifier, the signature policy,
 * VaultAccessService, ContainerRunner) and a builder of a mount runtime over a memory store,
 * shared by the pipeline, task and API unit tests. Every fake records its calls in one ordered
 * list, so a test can assert what happened and in which order.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingsEvents } from '../../src/config/settings-events.js';
import type { Configuration } from '../../src/config/settings-schemas.js';
import { mountScope, StorageKeys, type StoredLastCommit } from '../../src/config/stored.js';
import { afterEach, expect } from 'vitest';
import { AppError } from '../../src/errors.js';
import type { GitMirror, GitMirrorFactory, RemoteRefs } from '../../src/git/types.js';
import { statusPath } from '../../src/api/status.js';
import type { ApiServices, PathContext } from '../../src/api/types.js';
import { silentLogger } from '../../src/logging.js';
import { createPipelineControl } from '../../src/pipeline/control.js';
import { createScheduler } from '../../src/scheduler/scheduler.js';
import { createMountRuntime, type MountRuntime } from '../../src/pipeline/mount-runtime.js';
import type { FlushTimer } from '../../src/pipeline/poll-state.js';
import { sameRefs } from '../../src/pipeline/steps-git.js';
import type { SignatureCheckInput, SignatureCheckResult } from '../../src/pipeline/run-context.js';
import type { SignatureVerifier } from '../../src/pgp/types.js';
import type { ContainerRunner, RunResult, RunSpec } from '../../src/runner/types.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore, type Store } from '../../src/storage/store.js';
import { listTasks, type StoredTask } from '../../src/tasks/task-record.js';
import type {
  SecretsClient,
  VaultAccessConfig,
  VaultAccessService,
} from '../../src/vault/types.js';

export const MOUNT = 'flant_gitops';
export const C1 = '1'.repeat(40);
export const C2 = '2'.repeat(40);
export const C3 = '3'.repeat(40);
export const IMAGE = `sha256:${'a'.repeat(64)}`;

/** A valid configuration (N = 0 unless overridden). */
export function config(over: Partial<Configuration> = {}): Configuration {
  return {
    git_repo_url: 'https://git.example.test/repo.git',
    git_branch_name: 'main',
    git_poll_period: 300,
    required_number_of_verified_signatures_on_commit: 0,
    initial_last_successful_commit: '',
    docker_image: IMAGE,
    commands: ['echo hello', 'make deploy'],
    ...over,
  };
}

export const ACCESS: VaultAccessConfig = {
  vault_addr: 'https://127.0.0.1:8200',
  vault_tls_server_name: 'vault.test',
  vault_cacert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  role_name: 'gitops',
  role_id: 'role-id',
  secret_id: 'secret-id-value',
  secret_id_ttl: 3600,
  approle_mount_point: 'auth/approle',
  token_ttl: 60,
};

/** The world a runtime sees: remote state, ancestry, signatures, Vault and runner behaviour. */
export interface World {
  /** What ls-remote answers. */
  remote: RemoteRefs;
  /** "ancestor..descendant" pairs that are ancestry relations (equal ids always are). */
  ancestry: Set<string>;
  notes: Partial<Record<'notes-ref' | 'latest-signature-tag', string>>;
  policy: (input: SignatureCheckInput) => Promise<SignatureCheckResult>;
  /** Request names whose wrapped request fails. */
  failingRequests: Set<string>;
  ensureImage: (image: string) => Promise<void>;
  run: (spec: RunSpec) => Promise<RunResult>;
  /** Every call, in order: "lsRemote", "fetch", "ensureImage", "vault:<name>", "run", … */
  calls: string[];
  /** Specs given to the runner (tokens included: test-only). */
  runs: RunSpec[];
  /** Inputs given to the policy. */
  policyInputs: SignatureCheckInput[];
  /** Every mirror open: the remote's URL and branch. */
  opens: string[];
  /** Every mirror open: the mirror's directory. */
  mirrorDirs: string[];
  /** How many of the next ls-remote calls fail (a mirror removed under the runtime). */
  lsRemoteFailures: number;
}

/** A world where C2 descends from C1 and everything succeeds. */
export function world(over: Partial<World> = {}): World {
  return {
    remote: { branch: C2 },
    ancestry: new Set([`${C1}..${C2}`, `${C2}..${C3}`, `${C1}..${C3}`]),
    notes: {},
    policy: async () => ({ ok: true, validCount: 1, signers: ['alice'], rejected: [] }),
    failingRequests: new Set(),
    ensureImage: async () => undefined,
    run: async () => ({ outcome: 'succeeded' }),
    calls: [],
    runs: [],
    policyInputs: [],
    opens: [],
    mirrorDirs: [],
    lsRemoteFailures: 0,
    ...over,
  };
}

/** A fake mirror: ls-remote answers `w.remote`; the local refs are what was fetched last. */
export function fakeMirrors(w: World): GitMirrorFactory {
  let local: RemoteRefs = {};
  const counters = { lsRemote: 0, fetch: 0 };
  const mirror: GitMirror = {
    counters,
    async lsRemote() {
      counters.lsRemote++;
      w.calls.push('lsRemote');
      if (w.lsRemoteFailures > 0) {
        w.lsRemoteFailures--;
        throw new AppError('GIT_FAILED', 'git ls-remote: cannot change to the mirror directory');
      }
      return { ...w.remote };
    },
    async fetch(refs) {
      // As the real mirror: a no-op when the mirror already holds these refs.
      if (sameRefs(local, refs)) return;
      counters.fetch++;
      w.calls.push('fetch');
      local = { ...refs };
    },
    async localRefs() {
      return { ...local };
    },
    async isAncestor(a, d) {
      w.calls.push('isAncestor');
      return a === d || w.ancestry.has(`${a}..${d}`);
    },
    async readCommit(c) {
      w.calls.push('readCommit');
      return new TextEncoder().encode(`tree x\n\ncommit ${c}\n`);
    },
    async readSignatureNotes(_c, source) {
      return w.notes[source];
    },
    async exportTree(c, dir) {
      w.calls.push(`exportTree:${c}:${dir}`);
    },
  };
  return {
    open: async (dir, spec) => {
      w.opens.push(`${spec.url}#${spec.branch}`);
      w.mirrorDirs.push(dir);
      return mirror;
    },
  };
}

/** A verifier that must never be reached directly: the (fake) policy owns verification. */
export const unusedVerifier: SignatureVerifier = {
  prepare: async () => {
    throw new Error('verifier.prepare called by the pipeline');
  },
  verifyDetached: async () => {
    throw new Error('verifier.verifyDetached called by the pipeline');
  },
};

/** A Vault access service whose client mints fake tokens (or fails for some request names). */
export function fakeVaultAccess(w: World): VaultAccessService {
  const client: SecretsClient = {
    async wrappedRequest(req) {
      w.calls.push(`vault:${req.name}`);
      if (w.failingRequests.has(req.name)) {
        throw new AppError('VAULT_REQUEST_FAILED', 'permission denied (403)');
      }
      const envName = `VAULT_REQUEST_TOKEN_${req.name.toUpperCase().replace(/-/g, '_')}`;
      return {
        name: req.name,
        envName,
        token: `hvs.wrapped-${req.name}`,
        ttl: req.wrap_ttl,
        accessor: 'acc',
      };
    },
  };
  return {
    configure: async () => undefined,
    client: async () => client,
  };
}

/** A runner driven by the world. */
export function fakeRunner(w: World): ContainerRunner {
  return {
    ping: async () => undefined,
    async ensureImage(image) {
      w.calls.push('ensureImage');
      await w.ensureImage(image);
    },
    async run(spec) {
      w.calls.push('run');
      w.runs.push(spec);
      return w.run(spec);
    },
    sweep: async () => 0,
  };
}

/** A runtime over a fresh memory store and the fakes of `w`, plus its scoped store. */
export interface Bench {
  readonly runtime: MountRuntime;
  /** The service-level store (the runtime scopes it). */
  readonly root: Store;
  /** The mount's scoped store. */
  readonly store: Store;
  readonly w: World;
  readonly tempRoot: string;
  /** Advance the fake clock. */
  advance(ms: number): void;
  now(): Date;
  cleanup(): Promise<void>;
}

/** Build a bench; `configure` false leaves the mount unconfigured. */
export async function bench(
  w: World,
  opts: {
    configure?: Configuration | false;
    root?: Store;
    logLimitChars?: number;
    /** Use the production signature policy over this verifier instead of the world's policy. */
    verifier?: SignatureVerifier;
    /** The settings events hub the runtime listens on (as service.ts passes one). */
    settingsEvents?: SettingsEvents;
    /** Every settings write goes through this process (the service's file store). */
    soleWriter?: boolean;
    /** The timer of the poll state's write-behind (default: a real one). */
    pollStateTimer?: FlushTimer;
  } = {},
): Promise<Bench> {
  const root = opts.root ?? createMemoryStore();
  const store = scopedStore(root, mountScope(MOUNT));
  if (opts.configure !== false)
    await store.put(StorageKeys.configuration, opts.configure ?? config());
  const tempRoot = await mkdtemp(join(tmpdir(), 'pipeline-unit-'));
  let t = Date.parse('2024-01-01T00:00:00Z');
  const now = (): Date => new Date(t);
  const runtime = createMountRuntime({
    mount: MOUNT,
    store: root,
    mirrors: fakeMirrors(w),
    mirrorRoot: join(tempRoot, 'mirrors'),
    ...(opts.verifier
      ? { verifier: opts.verifier }
      : {
          verifier: unusedVerifier,
          checkSignatures: async (input: SignatureCheckInput) => {
            w.policyInputs.push(input);
            w.calls.push('policy');
            return w.policy(input);
          },
        }),
    vaultAccess: fakeVaultAccess(w),
    runner: fakeRunner(w),
    logger: silentLogger(),
    now,
    newId: randomUUID,
    tempRoot,
    logFlushMs: 5,
    ...(opts.logLimitChars === undefined ? {} : { logLimitChars: opts.logLimitChars }),
    ...(opts.settingsEvents === undefined ? {} : { settingsEvents: opts.settingsEvents }),
    ...(opts.soleWriter === undefined ? {} : { soleWriter: opts.soleWriter }),
    ...(opts.pollStateTimer === undefined ? {} : { pollStateTimer: opts.pollStateTimer }),
  });
  return {
    runtime,
    root,
    store,
    w,
    tempRoot,
    advance: (ms) => {
      t += ms;
    },
    now,
    cleanup: () => rm(tempRoot, { recursive: true, force: true }),
  };
}

/** The stored last successful commit, if any. */
export async function lastCommit(store: Store): Promise<string | undefined> {
  return (await store.get<StoredLastCommit>(StorageKeys.lastSuccessfulCommit))?.value.commit;
}

/** Store a last successful commit. */
export async function setLastCommit(store: Store, commit: string): Promise<void> {
  const v: StoredLastCommit = { commit, at: '2024-01-01T00:00:00.000Z' };
  await store.put(StorageKeys.lastSuccessfulCommit, v);
}

/** Store a vault request and the access configuration. */
export async function addVaultRequest(
  store: Store,
  name: string,
  withAccess = true,
): Promise<void> {
  await store.put(StorageKeys.vaultRequest(name), {
    name,
    path: `/v1/secret/data/${name}`,
    method: 'GET',
    options: {},
    wrap_ttl: 60,
  });
  if (withAccess) await store.put(StorageKeys.vaultAccess, ACCESS);
}

/**
 * `open(...)` builds a bench that is cleaned up after the current test; call once per test file
 * (it registers an afterEach hook).
 */
export function benchesPerTest(): (...args: Parameters<typeof bench>) => Promise<Bench> {
  const open: Bench[] = [];
  afterEach(async () => {
    for (const b of open.splice(0)) await b.cleanup();
  });
  return async (...args) => {
    const b = await bench(...args);
    open.push(b);
    return b;
  };
}

/** The one task a bench's store holds (fails the test when there is not exactly one). */
export async function onlyTask(b: Bench): Promise<StoredTask> {
  const tasks = await listTasks(b.store);
  expect(tasks).toHaveLength(1);
  return tasks[0] as StoredTask;
}

/** A flush timer that fires only when the test says so. */
export function manualTimer(): FlushTimer & { fire(): number; readonly armed: number } {
  const due = new Set<{ readonly callback: () => void }>();
  return {
    set(callback) {
      const h = { callback };
      due.add(h);
      return h;
    },
    clear(handle) {
      due.delete(handle as { readonly callback: () => void });
    },
    /** Run every armed callback; returns how many ran. */
    fire() {
      const all = [...due];
      due.clear();
      for (const h of all) h.callback();
      return all.length;
    },
    get armed() {
      return due.size;
    },
  };
}

/** The mount's `status` read as the API answers it, through a pipeline control over `b`. */
export async function statusOf(b: Bench): Promise<Record<string, unknown>> {
  const scheduler = createScheduler({
    targets: () => new Map([[MOUNT, b.runtime]]),
    ticker: { start: () => undefined, stop: () => undefined },
    logger: silentLogger(),
    now: b.now,
  });
  const pipeline = createPipelineControl({ scheduler, runtime: () => b.runtime });
  const services = { pipeline } as unknown as ApiServices;
  const ctx: PathContext = { store: b.store, services, logger: silentLogger(), now: b.now };
  const r = await statusPath.operations.read?.(
    { operation: 'read', mount: MOUNT, path: 'status', captures: {}, data: {} },
    ctx,
  );
  return r?.data ?? {};
}
