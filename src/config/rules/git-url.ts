/**
 * The git URL rule: which remote URL forms we accept. Pure code (no git, no I/O) kept with the
 * other rules, so the API validates `git_repo_url` with exactly the rule the git adapter applies
 * when it opens a mirror, without the API importing the adapter.
 */

/** The transports we accept; `ext::`, `fd::` and other remote-helper forms are refused. */
export type GitUrlKind = 'http' | 'https' | 'ssh' | 'git' | 'file' | 'scp' | 'local';

/** A parsed git URL (never holds the password itself, only whether there was one). */
export interface GitUrl {
  readonly kind: GitUrlKind;
  /** Host name (no port); absent for file:// and local paths. */
  readonly host?: string;
  readonly port?: number;
  /** User name from the URL, if any. */
  readonly username?: string;
  /** True when the URL embeds a password (`user:pass@`); callers should prefer stored credentials. */
  readonly hasPassword: boolean;
  /** Repository path on the host (or on the local file system). */
  readonly path: string;
}

// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\s\u0000-\u001f\u007f]/;
const URL_SCHEMES: Readonly<Record<string, GitUrlKind>> = {
  'http:': 'http',
  'https:': 'https',
  'ssh:': 'ssh',
  'git:': 'git',
  'file:': 'file',
};
// `[user@]host:path` — host without '/', path not starting with '/' after a '//' (that is a URL).
const SCP_LIKE = /^(?:([^@/:]+)@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(?!\/\/)(.+)$/;

/**
 * Parse a git remote URL in one of the accepted forms: http(s)://, ssh://, git://, file://,
 * scp-style `user@host:path`, or an absolute local path. Undefined when it is none of them or is
 * unsafe to hand to git (leading '-', whitespace or control characters, `transport::address`).
 */
export function parseGitUrl(raw: string): GitUrl | undefined {
  if (raw.length === 0 || raw.length > 4096) return undefined;
  if (raw.startsWith('-') || FORBIDDEN_CHARS.test(raw)) return undefined;
  if (raw.startsWith('/')) return { kind: 'local', hasPassword: false, path: raw };
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw);
  if (schemeMatch) return parseSchemeUrl(raw);
  // `transport::address` runs a remote helper (ext:: runs arbitrary commands): never.
  if (raw.includes('::')) return undefined;
  const m = SCP_LIKE.exec(raw);
  if (!m) return undefined;
  const [, user, host, path] = m;
  if (host === undefined || path === undefined) return undefined;
  return {
    kind: 'scp',
    host: host.replace(/^\[|\]$/g, ''),
    ...(user !== undefined ? { username: user } : {}),
    hasPassword: false,
    path,
  };
}

function parseSchemeUrl(raw: string): GitUrl | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  const kind = URL_SCHEMES[u.protocol];
  if (kind === undefined) return undefined;
  const path = decodeURIComponent(u.pathname);
  if (kind === 'file') {
    if (u.host !== '' || path === '' || path === '/') return undefined;
    return { kind, hasPassword: false, path };
  }
  if (u.hostname === '' || path === '' || path === '/') return undefined;
  return {
    kind,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    ...(u.port !== '' ? { port: Number(u.port) } : {}),
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    hasPassword: u.password !== '',
    path,
  };
}

/** True when `raw` is a git URL we accept (see parseGitUrl); used for `git_repo_url`. */
export function isValidGitUrl(raw: string): boolean {
  return parseGitUrl(raw) !== undefined;
}

/** True for the URL forms that go over SSH (so an SSH key applies). */
export function isSshUrl(raw: string): boolean {
  const kind = parseGitUrl(raw)?.kind;
  return kind === 'ssh' || kind === 'scp';
}

/**
 * The rule `git_repo_url` must meet, as a message (undefined: met). Credentials in the URL are
 * refused because `read configure` would show them back: they belong in configure/git_credential.
 * That is a password (`user:pass@`, also when the colon is percent-encoded), and for http(s) and
 * git:// any user name at all — hosts take an access token as the user name
 * (`https://ghp_…@github.com/…`), so there a user name is a credential. SSH keeps its user name
 * (`git@host`): it names an account, and the key is the credential.
 */
export function gitUrlRule(raw: string): string | undefined {
  const url = parseGitUrl(raw);
  if (!url) {
    return 'must be a git URL (https://, ssh://, git://, file://, user@host:path or an absolute path)';
  }
  if (url.hasPassword || url.username?.includes(':')) {
    return 'must not carry a password (write it to configure/git_credential)';
  }
  if (
    url.username !== undefined &&
    (url.kind === 'http' || url.kind === 'https' || url.kind === 'git')
  ) {
    return 'must not carry a user name or token for http(s) or git:// (write them to configure/git_credential)';
  }
  return undefined;
}
