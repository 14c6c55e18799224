/**
 * Typed errors. Every failure the service reports carries a stable `code` (listed in the README),
 * a human `reason`, an optional `cause`, and what the caller should do next — so the reconcile
 * loop decides retry vs. stop by type, never by message text.
 */

/** What should happen after this error: a person must act, retry later, or retry right away. */
export type NextStep = 'user' | 'retry-later' | 'retry-now';

/**
 * Stable error codes. Add new ones at the end; never rename (they are documented). Each carries
 * its HTTP status, what to do next, and a description: the README's error table is generated
 * from this object (`npm run docs`), so the docs cannot drift from the code.
 */
export const ErrorCodes = {
  INVALID_INPUT: {
    status: 400,
    next: 'user',
    description: 'Bad input to an API path: a field breaks a rule.',
  },
  NOT_FOUND: {
    status: 404,
    next: 'user',
    description: 'The object asked for does not exist.',
  },
  PERMISSION_DENIED: {
    status: 403,
    next: 'user',
    description: 'No token, a wrong token, or the token lacks the capability.',
  },
  UNSUPPORTED_OPERATION: {
    status: 405,
    next: 'user',
    description: 'The path exists but not with this operation.',
  },
  CONFLICT: {
    status: 409,
    next: 'retry-now',
    description: 'A compare-and-set lost a race; read again and retry.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    next: 'user',
    description: 'A body over the configured size cap.',
  },
  NOT_CONFIGURED: {
    status: 400,
    next: 'user',
    description: 'A configuration needed for this step is missing.',
  },
  GIT_AUTH: {
    status: 502,
    next: 'user',
    description: 'Git: authentication failed.',
  },
  GIT_NOT_FOUND: {
    status: 502,
    next: 'user',
    description: 'Git: the repository or branch does not exist.',
  },
  GIT_UNREACHABLE: {
    status: 502,
    next: 'retry-later',
    description: 'Git: the host could not be reached.',
  },
  GIT_TIMEOUT: {
    status: 504,
    next: 'retry-later',
    description: 'Git: a call took longer than its timeout.',
  },
  GIT_FAILED: {
    status: 502,
    next: 'retry-later',
    description: 'Git: any other failure of the git command.',
  },
  NOT_A_DESCENDANT: {
    status: 409,
    next: 'user',
    description: 'The new tip does not descend from the last processed commit.',
  },
  SIGNATURES_INSUFFICIENT: {
    status: 409,
    next: 'user',
    description: 'Not enough valid signatures from trusted keys.',
  },
  PGP_INVALID: {
    status: 400,
    next: 'user',
    description: 'A PGP key or signature could not be parsed or is unusable.',
  },
  VAULT_REQUEST_FAILED: {
    status: 502,
    next: 'retry-later',
    description: 'The target Vault refused or failed a request.',
  },
  VAULT_UNREACHABLE: {
    status: 502,
    next: 'retry-later',
    description: 'The target Vault could not be reached.',
  },
  RUNNER_FAILED: {
    status: 502,
    next: 'retry-later',
    description: 'The container runtime failed (image missing, engine down).',
  },
  COMMAND_FAILED: {
    status: 409,
    next: 'retry-later',
    description: 'A command exited with a non-zero code.',
  },
  TASK_TIMEOUT: {
    status: 504,
    next: 'retry-later',
    description: 'A run took longer than `task_timeout`.',
  },
  TASK_CANCELED: {
    status: 409,
    next: 'user',
    description: 'An operator canceled the task.',
  },
  STORAGE_FAILED: {
    status: 503,
    next: 'retry-later',
    description: 'The storage backend failed.',
  },
  INTERNAL: {
    status: 500,
    next: 'retry-later',
    description: 'Anything we did not foresee; details are logged, never sent to the client.',
  },
  GIT_UNSAFE_REPOSITORY: {
    status: 409,
    next: 'user',
    description:
      "Git: a local repository is owned by another user and git's `safe.directory` check refuses it; mark it safe with `--git-safe-directory`.",
  },
  GIT_UNKNOWN_COMMIT: {
    status: 409,
    next: 'user',
    description:
      'Git: a commit the mount recorded (its `last_successful_commit`) is not in the repository — e.g. `git_repo_url` changed; set or delete `last_successful_commit`.',
  },
} as const satisfies Record<string, { status: number; next: NextStep; description: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

/** The one error type the service throws on purpose. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly next: NextStep;
  /** Extra structured detail for logs and task reasons (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    reason: string,
    opts: { cause?: unknown; details?: Record<string, unknown>; next?: NextStep } = {},
  ) {
    super(reason, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.reason = reason;
    this.next = opts.next ?? ErrorCodes[code].next;
    this.details = opts.details;
  }

  /** HTTP status that a transport should use for this error. */
  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

/** Shorthand for the most common error: a field that breaks a rule (always names both). */
export function invalidField(field: string, rule: string): AppError {
  return new AppError('INVALID_INPUT', `${field}: ${rule}`, { details: { field } });
}

/** True when `e` is an AppError with one of the given codes. */
export function isAppError(e: unknown, ...codes: ErrorCode[]): e is AppError {
  return e instanceof AppError && (codes.length === 0 || codes.includes(e.code));
}

/** Wrap anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(e: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (e instanceof AppError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new AppError(fallback, message, { cause: e });
}
