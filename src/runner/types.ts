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
  readonly labels: Readonly<Record<string, string>>;
  readonly networkMode: string;
  readonly memoryBytes?: number;
  readonly nanoCpus?: number;
  readonly user?: string;
  readonly timeoutMs: number;
  /** Aborting kills the running container (cancel). */
  readonly signal?: AbortSignal;
  /** Live output (stdout and stderr interleaved as they come). */
  readonly onOutput: (chunk: string) => void;
}

/** How a run ended. */
export type RunResult =
  | { readonly outcome: 'succeeded' }
  | { readonly outcome: 'failed'; readonly commandIndex: number; readonly exitCode: number }
  | { readonly outcome: 'timeout'; readonly commandIndex: number }
  | { readonly outcome: 'canceled'; readonly commandIndex: number };

/** Runs commands in containers. */
export interface ContainerRunner {
  /** Throws AppError RUNNER_FAILED when the engine does not answer. */
  ping(): Promise<void>;
  /** Make sure the image is present (pull by digest when absent; clear error otherwise). */
  ensureImage(image: string): Promise<void>;
  run(spec: RunSpec): Promise<RunResult>;
  /** Remove containers carrying all of `labels` (leftovers of a crash); returns how many. */
  sweep(labels: Readonly<Record<string, string>>): Promise<number>;
}
