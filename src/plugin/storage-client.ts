/**
 * The host's pb.Storage, reached over the brokered connection, as the RawStorage under the
 * plugin's versioned Store (src/storage/entry-store.ts). OpenBao reports storage failures in the
 * reply's `err` string (a gRPC error means the connection itself failed); both become
 * STORAGE_FAILED with the detail kept for the log, never for the client.
 */
import type * as grpc from '@grpc/grpc-js';
import { AppError } from '../errors.js';
import type { RawStorage } from '../storage/entry-store.js';
import type { StorageEntry } from './messages.js';

type Unary = (
  args: object,
  cb: (e: grpc.ServiceError | null, reply?: Record<string, unknown>) => void,
) => void;

/**
 * OpenBao's text for a write to storage that this node may not write: a standby's (read-enabled
 * standbys serve reads from their replica). Kept as the marker `readOnly`, so the request's error
 * carries the same text back and OpenBao forwards the request to the active node.
 */
export const READ_ONLY_STORAGE = 'cannot write to readonly storage';

/** Call one unary method of `client` and return its reply, throwing STORAGE_FAILED on errors. */
function call(client: grpc.Client, method: string, args: object): Promise<Record<string, unknown>> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') {
    return Promise.reject(new AppError('INTERNAL', `pb.Storage has no method ${method}`));
  }
  return new Promise((resolve, reject) => {
    fn.call(client, args, (e, reply) => {
      if (e) {
        reject(new AppError('STORAGE_FAILED', `storage ${method}: ${e.message}`, { cause: e }));
        return;
      }
      const r = reply ?? {};
      const msg = typeof r['err'] === 'string' ? r['err'] : '';
      if (msg !== '') {
        const details = msg.includes(READ_ONLY_STORAGE) ? { readOnly: true } : undefined;
        reject(
          new AppError('STORAGE_FAILED', `storage ${method}: ${msg}`, details ? { details } : {}),
        );
        return;
      }
      resolve(r);
    });
  });
}

/** RawStorage over a pb.Storage client on the brokered channel. */
export function grpcRawStorage(client: grpc.Client): RawStorage {
  return {
    async get(key) {
      const r = await call(client, 'Get', { key });
      const entry = r['entry'] as StorageEntry | null | undefined;
      return entry ? Buffer.from(entry.value) : undefined;
    },
    async put(key, value) {
      await call(client, 'Put', { entry: { key, value } });
    },
    async list(prefix) {
      const r = await call(client, 'List', { prefix });
      return Array.isArray(r['keys']) ? (r['keys'] as string[]) : [];
    },
    async delete(key) {
      await call(client, 'Delete', { key });
    },
  };
}
