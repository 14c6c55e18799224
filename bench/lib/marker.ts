/**
 * The "first command running" marker: a loopback HTTP server the benchmarked container hits with
 * busybox wget (the service runs containers with network `host`). `next()` resolves with the
 * arrival time (performance.now()) of the next hit.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A running marker server. */
export interface MarkerServer {
  readonly port: number;
  /** The URL the command fetches. */
  readonly url: string;
  /** Resolves at the next hit (or rejects after `timeoutMs`). */
  next(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** Start a marker server on 127.0.0.1. */
export async function startMarker(): Promise<MarkerServer> {
  const waiters: ((t: number) => void)[] = [];
  const server: Server = createServer((req, res) => {
    const t = performance.now();
    res.end('ok\n');
    for (const w of waiters.splice(0)) w(t);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/started`,
    next(timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no marker hit within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
