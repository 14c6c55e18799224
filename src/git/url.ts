/**
 * Git remote URLs: which forms we accept and how to show one without its credentials. Pure code
 * (no git, no I/O) so the API can validate `git_repo_url` with the same rules the adapter uses.
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
 * Replace the user-info of URLs in `text` with `***`, so an URL with credentials can appear in an
 * error message or a log line: any `user:password@`, and for http(s) also a bare `user@` (tokens
 * are often passed as the user name there). A plain SSH user (`ssh://git@host`) stays.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(
    /\b([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/\s@'"]+)@/g,
    (all: string, scheme: string, userinfo: string) =>
      userinfo.includes(':') || /^https?$/i.test(scheme) ? `${scheme}://***@` : all,
  );
}

/**
 * True when `name` is a branch name git accepts under refs/heads/ (the rules of
 * `git check-ref-format --branch`, minus `@{-N}`), so it can go into a refspec unquoted.
 */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/')) return false;
  if (name.endsWith('.') || name.endsWith('.lock') || name === '@') return false;
  if (/[\s\u0000-\u001f\u007f~^:?*[\\]/.test(name)) return false; // eslint-disable-line no-control-regex
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.'));
}
