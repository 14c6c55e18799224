/**
 * The container health check (`node dist/healthcheck.js`): exit 0 when the service's /readyz
 * answers 200 — the Docker engine answers, the store can be read and the data dir written — so
 * "healthy" means able to run commands, not merely listening. The address comes from
 * FLANT_GITOPS_LISTEN, the same variable the service listens on (a wildcard host is probed on
 * loopback); set the address there rather than with `--listen` when the check must follow it.
 */
import { pathToFileURL } from 'node:url';

/** The URL of /readyz for a listen address `HOST:PORT` / `[V6]:PORT` (wildcards → loopback). */
export function readinessUrl(listen: string): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new Error(`FLANT_GITOPS_LISTEN must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const v6 = m[1];
  const host =
    v6 !== undefined ? (v6 === '::' ? '::1' : v6) : m[2] === '0.0.0.0' ? '127.0.0.1' : m[2];
  return `http://${v6 !== undefined ? `[${host}]` : host}:${m[3]}/readyz`;
}

/** Probe once; resolves to the process exit code (0 ready, 1 not). */
export async function healthcheck(env: NodeJS.ProcessEnv, timeoutMs = 2500): Promise<number> {
  try {
    const res = await fetch(readinessUrl(env.FLANT_GITOPS_LISTEN ?? '127.0.0.1:8080'), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.ok) return 0;
    process.stderr.write(`not ready: /readyz answered ${res.status}\n`);
  } catch (e) {
    process.stderr.write(`not ready: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void healthcheck(process.env).then((code) => {
    process.exitCode = code;
  });
}
