/**
 * The types one pipeline run shares between its steps: what it depends on (adapters, behind our
 * interfaces), what it was given (configuration, task) and what the steps found so far. Steps
 * read and extend the run state; they never write a task status — the summariser does.
 */
import type { UnreadNote } from './signature-sources.js';
import type { MountSettings } from '../config/mount-settings.js';
import type { Configuration, VaultAccess } from '../config/settings-schemas.js';
import type { AppError } from '../errors.js';
import type { GitMirror, RemoteRefs } from '../git/types.js';
import type { Logger } from '../logging.js';
import type { SignatureVerifier, TrustedKey } from '../pgp/types.js';
import type { ContainerRunner } from '../runner/types.js';
import type { Store } from '../storage/store.js';
import type { TrustedSshKey } from '../sshsig/types.js';
import type { RunningTask } from '../tasks/task-manager.js';
import type { VaultAccessService } from '../vault/types.js';
import type { SignatureReport } from './signature-report.js';

/**
 * Input of the signature policy: the commit, its raw object, the note texts from both sources,
 * N and the trusted keys as stored (the policy prepares them with `verifier`).
 */
export interface SignatureCheckInput {
  readonly commitId: string;
  readonly rawCommit: Uint8Array;
  readonly notes: readonly (string | UnreadNote)[];
  readonly required: number;
  readonly keys: readonly TrustedKey[];
  readonly verifier: SignatureVerifier;
  /** Trusted SSH keys as stored (one authorized_keys line each); absent: none. */
  readonly sshKeys?: readonly TrustedSshKey[];
}

/** What the policy answers (it may also throw AppError SIGNATURES_INSUFFICIENT itself). */
export interface SignatureCheckResult {
  readonly ok: boolean;
  readonly validCount: number;
  /** Who signed (in production: PGP primary fingerprints and SSH `SHA256:` fingerprints). */
  readonly signers: readonly string[];
  readonly rejected: readonly unknown[];
  /** The signers in detail (fingerprint, key names, source) when the policy gives them. */
  readonly valid?: readonly unknown[];
}

/**
 * The policy as a function — `pipelineSignaturePolicy` of signature-policy.ts in production —
 * injected so the pipeline is tested without real PGP.
 */
export type SignaturePolicy = (input: SignatureCheckInput) => Promise<SignatureCheckResult>;

/** Everything a run depends on; built by the mount runtime. */
export interface PipelineDeps {
  readonly mount: string;
  /** The mount's scoped store (poll records: last successful commit). */
  readonly store: Store;
  /** The mount's settings (vault access and requests, trusted keys). */
  readonly settings: MountSettings;
  readonly mirror: GitMirror;
  readonly verifier: SignatureVerifier;
  readonly checkSignatures: SignaturePolicy;
  readonly vaultAccess: VaultAccessService;
  readonly runner: ContainerRunner;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Where per-run temp dirs (worktree, CA file) are created. */
  readonly tempRoot: string;
  /** Containers run only with `host` (reach a loopback Vault) or `none`. */
  readonly networkMode: string;
  /** This service instance's id (labels its containers). */
  readonly instanceId: string;
}

/** What one run was asked to do. */
export interface RunInput {
  readonly config: Configuration;
  readonly task: RunningTask;
  readonly timeoutSeconds: number;
}

/** What the steps found so far (mutable, owned by one run). */
export interface RunState {
  refs?: RemoteRefs;
  tip?: string;
  /** The commit the tip must descend from (stored, else the initial one). */
  last?: string;
  /** Version of `last_successful_commit` when read (0: absent), for the atomic record. */
  lastVersion: number;
  /** The stored last successful commit as the probe read it ('' none; absent: not read). */
  lastStored?: string;
  /** The trusted keys that signed the tip (as the policy names them). */
  signers: readonly string[];
  /** What the signature step found about the tip, for `status` (absent: not evaluated). */
  signatures?: SignatureReport;
  access?: VaultAccess;
  /** Variables for the container; tokens live only here, in memory. */
  env: Record<string, string>;
}

/** A step either lets the run continue or ends it early with nothing to do. */
export type StepResult = 'continue' | 'up-to-date';

/** One step of a run. Throws an AppError to stop the run with a failure. */
export interface Step {
  readonly name: string;
  /**
   * True for the steps that run before the poll has a task (the probe): they cannot be canceled,
   * and what they log reaches the task's log only if a task is started after them.
   */
  readonly beforeTask?: boolean;
  run(deps: PipelineDeps, input: RunInput, state: RunState): Promise<StepResult>;
}

/** How a run ended, before it is summarised. */
export type RunOutcome =
  | { readonly kind: 'deployed'; readonly state: RunState }
  | { readonly kind: 'up-to-date'; readonly state: RunState }
  | { readonly kind: 'failed'; readonly error: AppError; readonly state: RunState };

/** Write one line to the task log, prefixed so it stands out from command output. */
export function progress(input: RunInput, line: string): void {
  input.task.log(`[flant-gitops] ${line}\n`);
}
