/**
 * The fake host's pb.Storage: an in-memory key → bytes map served over gRPC on a unix socket
 * with mTLS, exactly as OpenBao's broker serves the mount's barrier view (the host certificate
 * as server certificate, the plugin's certificate as the only accepted client). Listing follows
 * Vault: names directly below a prefix, folders with a trailing '/'. `failNext` makes the next
 * call answer with an `err` string, as OpenBao reports storage failures.
 */
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { PluginCertificate } from '../../src/plugin/cert.js';
import { protocolServices, UNLIMITED_MESSAGES } from '../../src/plugin/proto.js';

/** A running in-memory storage server. */
export interface MemoryPbStorage {
  readonly socketPath: string;
  readonly data: Map<string, Buffer>;
  /** Every method called, in order (e.g. to prove Setup wrote nothing). */
  readonly calls: string[];
  /** Answer the next call with this error string. */
  failNext(err: string): void;
  close(): Promise<void>;
}

type Handler = (call: { request: Record<string, unknown> }, cb: grpc.sendUnaryData<object>) => void;

/** Serve an empty storage at `socketPath`, trusting only `clientCertPem`. */
export async function memoryPbStorage(
  socketPath: string,
  server: PluginCertificate,
  clientCertPem: string,
): Promise<MemoryPbStorage> {
  const data = new Map<string, Buffer>();
  const calls: string[] = [];
  let failure: string | undefined;
  const wrap =
    (name: string, fn: (req: Record<string, unknown>) => object): Handler =>
    (call, cb) => {
      calls.push(name);
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        cb(null, { err });
        return;
      }
      cb(null, fn(call.request));
    };
  const srv = new grpc.Server(UNLIMITED_MESSAGES);
  srv.addService(protocolServices().storage, {
    Get: wrap('Get', (r) => {
      const key = String(r['key']);
      const value = data.get(key);
      return value ? { entry: { key, value } } : {};
    }),
    Put: wrap('Put', (r) => {
      const e = r['entry'] as { key: string; value: Buffer };
      data.set(e.key, Buffer.from(e.value));
      return {};
    }),
    Delete: wrap('Delete', (r) => {
      data.delete(String(r['key']));
      return {};
    }),
    List: wrap('List', (r) => {
      const prefix = String(r['prefix']);
      const names = new Set<string>();
      for (const k of data.keys()) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        const slash = rest.indexOf('/');
        names.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      return { keys: [...names].sort() };
    }),
    IsTransactional: wrap('IsTransactional', () => ({ transactional: false })),
  });
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(clientCertPem),
    [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }],
    true,
  );
  await new Promise<void>((resolve, reject) =>
    srv.bindAsync(`unix://${socketPath}`, creds, (e) => (e ? reject(e) : resolve())),
  );
  return {
    socketPath,
    data,
    calls,
    failNext: (err) => (failure = err),
    async close() {
      srv.forceShutdown();
      rmSync(socketPath, { force: true });
    },
  };
}
