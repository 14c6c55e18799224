/**
 * The per-mount part of the composition, shared by the standalone service (service.ts) and the
 * OpenBao plugin (plugin/background-work.ts): the same adapters, the same runtime, the same
 * signature gate and wrapped Vault requests, with metrics as optional decorators. Written once
 * so the two ways of running cannot drift apart.
 */
import type { LocalRepoPolicy } from './config/local-repos.js';
import type { SettingsEvents } from './config/settings-events.js';
import { createGitSlots } from './git/concurrency.js';
import { HostedGitMirrorFactory } from './git/host/client.js';
import type { GitMirrorFactory } from './git/types.js';
import type { Logger } from './logging.js';
import type { Metrics } from './metrics.js';
import {
  instrumentMirrors,
  instrumentRunner,
  instrumentRuntime,
  instrumentSignaturePolicy,
  instrumentVaultAccess,
} from './metrics-wiring.js';
import { createMountRuntime, type MountRuntime } from './pipeline/mount-runtime.js';
import { pipelineSignaturePolicy } from './pipeline/signature-policy.js';
import { createOpenPgpVerifier } from './pgp/openpgp.js';
import type { SignatureVerifier } from './pgp/types.js';
import { createDockerRunner } from './runner/docker.js';
import type { ContainerRunner } from './runner/types.js';
import type { Store } from './storage/store.js';
import { createVaultAccessService } from './vault/access.js';
import type { VaultAccessService } from './vault/types.js';

/** The adapters every mount of one process shares. */
export interface SharedAdapters {
  readonly verifier: SignatureVerifier;
  readonly mirrors: GitMirrorFactory;
  readonly runner: ContainerRunner;
  /** Use of the bound on git processes (the git process gauges read it at scrape time). */
  readonly gitSlots: GitSlotUse;
  /** End what the adapters started (the git host process); call once, when stopping. */
  close(): Promise<void>;
}

/** The git process gauges' view of a GitSlots, wherever the slots live. */
export interface GitSlotUse {
  readonly active: number;
  readonly maxActive: number;
  readonly waiting: number;
}

/** Build the concrete shared adapters (openpgp.js, simple-git mirrors, dockerode). */
export function createSharedAdapters(opts: {
  readonly logger: Logger;
  readonly dockerSocket: string;
  /** Local repositories owned by another user that git may read (`safe.directory`). */
  readonly gitSafeDirectories?: readonly string[];
  /** The process's own git config file, where those safe directories are written. */
  readonly gitConfigFile?: string;
  /** The bound on git processes alive at once for every mount (default 8). */
  readonly gitConcurrency?: number;
  /** Where git calls keep their short-lived files (SSH key copies, export indexes). */
  readonly gitTmpDir?: string;
  /**
   * `host` (the service): every git call runs in one small child process (git/host/), so this
   * big process never forks git — each fork would stall its event loop for a time growing with
   * its resident set. `in-process` (the plugin): simple-git runs here.
   */
  readonly git?: 'host' | 'in-process';
}): SharedAdapters {
  const log = opts.logger.child({ component: 'git' });
  const onRebuild = (mirrorDir: string, missing: readonly string[]): void =>
    log.warn({ mirrorDir, missing }, 'mirror dir was half-made (crash or full disk); rebuilt');
  const common = {
    onRebuild,
    ...(opts.gitTmpDir === undefined ? {} : { tmpDir: opts.gitTmpDir }),
    ...(opts.gitSafeDirectories === undefined ? {} : { safeDirectories: opts.gitSafeDirectories }),
    ...(opts.gitConfigFile === undefined ? {} : { configFile: opts.gitConfigFile }),
  };
  let mirrors: GitMirrorFactory;
  let gitSlots: GitSlotUse;
  let close = async (): Promise<void> => {};
  if (opts.git === 'host') {
    const hosted = new HostedGitMirrorFactory({
      ...common,
      ...(opts.gitConcurrency === undefined ? {} : { concurrency: opts.gitConcurrency }),
      onHostExit: (info) =>
        log.warn({ ...info }, 'git host process ended; a new one starts with the next git call'),
    });
    mirrors = hosted;
    gitSlots = {
      get active() {
        return hosted.slots.active;
      },
      get maxActive() {
        return hosted.slots.maxActive;
      },
      get waiting() {
        return hosted.slots.waiting;
      },
    };
    close = () => hosted.close();
  } else {
    const slots = createGitSlots(opts.gitConcurrency);
    // simple-git is loaded on the first git call, not when the process starts.
    let inProcess: Promise<GitMirrorFactory> | undefined;
    mirrors = {
      open: async (dir, spec) => {
        inProcess ??= import('./git/mirror.js').then(
          (m) => new m.SimpleGitMirrorFactory({ ...common, slots }),
        );
        return (await inProcess).open(dir, spec);
      },
    };
    gitSlots = slots;
  }
  return {
    verifier: createOpenPgpVerifier(),
    mirrors,
    runner: createDockerRunner({ logger: opts.logger, socketPath: opts.dockerSocket }),
    gitSlots,
    close,
  };
}

/** What one mount is composed from. */
export interface MountCompositionOptions {
  readonly mount: string;
  /** The whole store (the runtime scopes it with `mounts/<mount>/`). */
  readonly store: Store;
  readonly adapters: SharedAdapters;
  readonly mirrorRoot: string;
  readonly tempRoot: string;
  readonly networkMode: string;
  /** Labels this process's containers, so the start-up sweep removes only its own. */
  readonly instanceId: string;
  readonly logger: Logger;
  /** Decorate the adapters and runtime with metrics (the service does; the plugin does not). */
  readonly metrics?: Metrics;
  /** Use this Vault access service (the plugin shares one with its API paths). */
  readonly vaultAccess?: VaultAccessService;
  /** Reason written on tasks a previous process left behind. */
  readonly restartReason?: string;
  /** Where the runtime's own settings writes (vault access rotation) are announced. */
  readonly settingsEvents?: SettingsEvents;
  /** Every settings write goes through this process (see MountRuntimeOptions.soleWriter). */
  readonly soleWriter?: boolean;
  /** The approved local repository roots, checked before a mirror is opened. */
  readonly localRepos?: LocalRepoPolicy;
}

/** One composed mount: its runtime and the Vault access service its API paths must share. */
export interface ComposedMount {
  readonly runtime: MountRuntime;
  readonly vaultAccess: VaultAccessService;
}

/** Compose one mount's runtime from the shared adapters. */
export function composeMount(opts: MountCompositionOptions): ComposedMount {
  const { mount, metrics, adapters } = opts;
  const base =
    opts.vaultAccess ?? createVaultAccessService({ logger: opts.logger.child({ mount }) });
  const vaultAccess = metrics ? instrumentVaultAccess(base, metrics, mount) : base;
  const runtime = createMountRuntime({
    mount,
    store: opts.store,
    mirrors: metrics ? instrumentMirrors(adapters.mirrors, metrics, mount) : adapters.mirrors,
    mirrorRoot: opts.mirrorRoot,
    verifier: adapters.verifier,
    checkSignatures: metrics
      ? instrumentSignaturePolicy(pipelineSignaturePolicy, metrics, mount)
      : pipelineSignaturePolicy,
    vaultAccess,
    runner: metrics ? instrumentRunner(adapters.runner, metrics, mount) : adapters.runner,
    logger: opts.logger,
    tempRoot: opts.tempRoot,
    networkMode: opts.networkMode,
    instanceId: opts.instanceId,
    ...(opts.restartReason === undefined ? {} : { restartReason: opts.restartReason }),
    ...(opts.settingsEvents === undefined ? {} : { settingsEvents: opts.settingsEvents }),
    ...(opts.soleWriter === undefined ? {} : { soleWriter: opts.soleWriter }),
    ...(opts.localRepos === undefined ? {} : { localRepos: opts.localRepos }),
  });
  return { runtime: metrics ? instrumentRuntime(runtime, metrics) : runtime, vaultAccess };
}
