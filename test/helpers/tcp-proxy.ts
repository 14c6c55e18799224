/**
 * A loopback TCP proxy that can be cut and restored, to make a real server (OpenBao) unreachable
 * for a while without stopping it (its in-memory state survives the outage).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A proxy from 127.0.0.1:<port> to a target port. */
export interface TcpProxy {
  readonly port: number;
  /** Refuse new connections and drop open ones. */
  cut(): Promise<void>;
  /** Accept connections again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Start a proxy to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  // Bound to port 0 first; `restore` listens on that same port again.
  let port = 0;
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolveP, reject) => {
      const srv = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        const bound = srv.address();
        if (typeof bound === 'object' && bound) port = bound.port;
        resolveP();
      });
      server = srv;
    });
  const cut = async () => {
    const srv = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}
