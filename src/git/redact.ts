/**
 * Showing git URLs without their credentials: the git adapter's errors and logs quote remote URLs
 * and git's own messages, which may carry user-info.
 */

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
