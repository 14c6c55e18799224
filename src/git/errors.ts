/**
 * Turning a failed git call into an AppError the reconcile loop can act on: authentication and
 * missing repositories need a person, unreachable hosts and timeouts are retried. Pure functions
 * over git's stderr so the table of known messages is unit-tested without a network.
 */
import { AppError, type ErrorCode } from '../errors.js';
import { redactUrlCredentials } from './redact.js';

/** What we know about one failed git call. */
export interface GitFailure {
  /** The git subcommand, e.g. `ls-remote`. */
  readonly op: string;
  /** git's stderr (may contain an URL with credentials; it is sanitized here). */
  readonly stderr: string;
  /** Exit code, when git exited by itself. */
  readonly exitCode?: number;
  /** Set when we killed the call because it ran past its timeout. */
  readonly timedOutAfterMs?: number;
  /** The remote URL, for the message (redacted here). */
  readonly url?: string;
  /** Strings that must never appear in the message (passwords, auth headers, keys). */
  readonly secrets?: readonly string[];
}

interface Rule {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly match: RegExp;
}

/** Checked in order: the first match wins (auth before unreachable: ssh prints both). */
const RULES: readonly Rule[] = [
  {
    // git >= 2.35.2 refuses a repository (for file:// remotes: the source repository, checked by
    // upload-pack) whose owner is not the user running git. Before "not found"/"unreachable":
    // git also prints "could not read from remote repository" after it.
    code: 'GIT_UNSAFE_REPOSITORY',
    reason:
      "the repository is owned by another user than the service's, so git refuses it (safe.directory); give it to the service's user, or mark it safe with --git-safe-directory PATH / FLANT_GITOPS_GIT_SAFE_DIRECTORIES",
    match: /detected dubious ownership|unsafe repository \(.* is owned by someone else\)/i,
  },
  {
    code: 'GIT_AUTH',
    reason:
      "SSH host key verification failed: the server's host key is missing from (or differs in) the known_hosts given",
    match:
      /host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|no .* host key is known/i,
  },
  {
    code: 'GIT_AUTH',
    reason: 'authentication failed',
    match:
      /authentication failed|permission denied \(|could not read (username|password)|terminal prompts disabled|returned error: (401|403)|access denied|invalid username or password|HTTP Basic/i,
  },
  {
    code: 'GIT_TIMEOUT',
    reason: 'the remote stopped sending data',
    match: /operation too slow|operation timed out after/i,
  },
  {
    code: 'GIT_NOT_FOUND',
    reason: 'repository not found',
    match:
      /repository .*not found|not found|does not appear to be a git repository|no such file or directory|returned error: 404|couldn't find remote ref|no such repository|not a git repository/i,
  },
  {
    code: 'GIT_UNREACHABLE',
    reason: 'the host could not be reached',
    match:
      /could not resolve (host|hostname)|connection refused|failed to connect|connection timed out|no route to host|network is unreachable|connection reset|connection closed by|could not read from remote repository|unable to access|empty reply from server|recv failure|ssl_connect|kex_exchange_identification|name or service not known/i,
  },
];

/** Boilerplate lines git and ssh add around the one line that says what went wrong. */
const NOISE: readonly RegExp[] = [
  /^hint:/i,
  /^to add an exception for this directory, call:$/i,
  /^git config --global --add safe\.directory /i,
  /^warning: redirecting/i,
  /^@+$/,
  /^@\s+WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\s+@$/,
  /^fatal: could not read from remote repository\.$/i,
  /^please make sure you have the correct access rights$/i,
  /^and the repository exists\.$/i,
  /^(it is possible that someone|someone could be eavesdropping|it is also possible that|please contact your system|the fingerprint for the|add correct host key|offending|remove with:|ssh-keygen -f|host key for .* has changed|SHA256:)/i,
];

/** Remove every secret and every `user:pass@` from git output, and keep it short. */
export function sanitizeGitOutput(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (s.length >= 1) out = out.split(s).join('***');
  }
  out = redactUrlCredentials(out);
  const lines = out
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !NOISE.some((n) => n.test(l)));
  const joined = lines.join(' | ');
  return joined.length > 600 ? `${joined.slice(0, 600)}…` : joined;
}

/**
 * Classify a failed git call into GIT_AUTH / GIT_NOT_FOUND / GIT_UNREACHABLE / GIT_TIMEOUT /
 * GIT_UNSAFE_REPOSITORY / GIT_FAILED.
 */
export function classifyGitFailure(f: GitFailure): AppError {
  const where = f.url === undefined ? '' : ` (${redactUrlCredentials(f.url)})`;
  const detail = sanitizeGitOutput(f.stderr, f.secrets);
  const details: Record<string, unknown> = { op: f.op };
  if (f.url !== undefined) details.url = redactUrlCredentials(f.url);
  if (f.exitCode !== undefined) details.exitCode = f.exitCode;
  if (f.timedOutAfterMs !== undefined) {
    return new AppError(
      'GIT_TIMEOUT',
      `git ${f.op}${where}: no result within ${f.timedOutAfterMs} ms; the call was stopped`,
      { details },
    );
  }
  const rule = RULES.find((r) => r.match.test(f.stderr));
  const code = rule?.code ?? 'GIT_FAILED';
  const reason = rule?.reason ?? 'git failed';
  const tail =
    detail.length > 0 ? `: ${detail}` : f.exitCode !== undefined ? `: exit code ${f.exitCode}` : '';
  return new AppError(code, `git ${f.op}${where}: ${reason}${tail}`, { details });
}
