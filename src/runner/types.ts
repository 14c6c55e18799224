/**
 * The container capability in our own types. Only src/runner/ implements it (over dockerode).
 */

/** Everything one run needs. */
export interface RunSpec {
  /** Pinned reference (`repo@sha256:…`) or a local image id (`sha256:…`). */
  readonly image: string;
  /** Run in order, each as `/bin/sh -c <command>`; stop at the first non-zero exit. */
  readonly commands: readonly string[];
  /** Host directory bind-mounted read-write at /git (the commit's files). */
  readonly worktree: string;
  /** Environment (tokens included): passed to the container only, never written to disk. */
  readonly env: Readonly<Record<string, string>>;
  /** Extra read-only files: container path → host path (e.g. the Vault CA). */
  readonly files?: Readonly<Record<string, string>>;
  /** Put on every container of the run (the runner adds its own "managed" label too). */
  readonly labels: Readonly<Record<string, string>>;
  /** Docker network mode, e.g. `host` or `none`. */
  readonly networkMode: string;
  /** Memory limit per container (HostConfig.Memory); unlimited when absent. */
  readonly memoryBytes?: number;
  /** CPU limit per container in 1e-9 CPUs (HostConfig.NanoCpus); unlimited when absent. */
  readonly nanoCpus?: number;
  /** `uid`, `uid:gid` or a user name of the image; the image's user when absent. */
  readonly user?: string;
  /**
   * Capabilities given back after all are dropped (names like `NET_BIND_SERVICE`, without the
   * `CAP_` prefix); none when absent. The runner always drops ALL and sets no-new-privileges.
   */
  readonly capAdd?: readonly string[];
  /** Mount the image's root filesystem read-only (/git, /tmp and the extra files stay as set). */
  readonly readOnlyRootFs?: boolean;
  /** Largest number of processes per container (HostConfig.PidsLimit); unlimited when absent. */
  readonly pidsLimit?: number;
  /** Size of the writable tmpfs at /tmp (it counts toward the memory limit); default 64 MiB. */
  readonly tmpBytes?: number;
  /** For the whole run (all commands together), from the moment `run` is called. */
  readonly timeoutMs: number;
  /** Aborting kills the running container (cancel). */
  readonly signal?: AbortSignal;
  /** Live output (stdout and stderr interleaved as they come). */
  readonly onOutput: (chunk: string) => void;
}

/** How a run ended; `commandIndex` is the 0-based index of the command that stopped it. */
export type RunResult =
  | { readonly outcome: 'succeeded' }
  | { readonly outcome: 'failed'; readonly commandIndex: number; readonly exitCode: number }
  | { readonly outcome: 'timeout'; readonly commandIndex: number }
  | { readonly outcome: 'canceled'; readonly commandIndex: number };

/** One label set of a sweep: a container matches when it carries every one of them. */
export type SweepLabels = Readonly<Record<string, string>>;

/** The label sets of a sweep as a list (one set, or several). */
export function sweepSets(labels: SweepLabels | readonly SweepLabels[]): readonly SweepLabels[] {
  return Array.isArray(labels) ? (labels as readonly SweepLabels[]) : [labels as SweepLabels];
}

/** Runs commands in containers. */
export interface ContainerRunner {
  /** Throws AppError RUNNER_FAILED when the engine does not answer. */
  ping(): Promise<void>;
  /**
   * Make sure the image is present (pull by digest when absent; clear error otherwise).
   * Throws INVALID_INPUT for a reference that is not pinned, RUNNER_FAILED when it cannot be had.
   */
  ensureImage(image: string): Promise<void>;
  /**
   * Run the commands; does NOT pull (call ensureImage first). Non-zero exit, timeout and cancel
   * are results, not errors; throws INVALID_INPUT for a bad spec and RUNNER_FAILED when the
   * engine fails. Every container is removed before this settles.
   */
  run(spec: RunSpec): Promise<RunResult>;
  /**
   * Remove containers carrying all of `labels` (leftovers of a crash) — or, given several label
   * sets, all of any one of them, found with a single listing; returns how many.
   * Only containers this runner created (its "managed" label) are ever touched.
   */
  sweep(labels: SweepLabels | readonly SweepLabels[]): Promise<number>;
}
