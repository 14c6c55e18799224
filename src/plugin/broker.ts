/**
 * go-plugin's broker, plugin side. The host opens one long-lived bidi stream (StartStream) and
 * announces on it where it serves brokered services (ConnInfo{service_id, network, address});
 * Setup names the id to dial (broker_id). The ConnInfo may arrive before or after Setup, so
 * announcements are kept in a registry and waited for (5 s, as go-plugin does). The stream lives
 * as long as the host: when it ends, the host is gone and the plugin must exit by itself.
 */
import * as grpc from '@grpc/grpc-js';
import type { ConnInfo } from './messages.js';
import { UNLIMITED_MESSAGES } from './proto.js';

/** TLS material of the plugin (client side of the broker) and the host's certificate. */
export interface BrokerTls {
  readonly hostCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** The registry of announced connections and the stream handler that fills it. */
export interface Broker {
  /** gRPC handler of /plugin.GRPCBroker/StartStream. */
  startStream(call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>): void;
  /** The ConnInfo announced for `id`, waiting up to `timeoutMs` for it. */
  connInfo(id: number, timeoutMs?: number): Promise<ConnInfo>;
  /** A channel to the brokered service `id`, dialled with mTLS. */
  dial(id: number): Promise<grpc.Channel>;
}

/** Create the broker; `onHostGone` runs once when the host's stream ends or fails. */
export function createBroker(tls: BrokerTls, onHostGone: (why: string) => void): Broker {
  const known = new Map<number, ConnInfo>();
  const waiters = new Map<number, ((c: ConnInfo) => void)[]>();
  let gone = false;
  const hostGone = (why: string): void => {
    if (gone) return;
    gone = true;
    onHostGone(why);
  };

  function announce(c: ConnInfo): void {
    known.set(c.service_id, c);
    for (const w of waiters.get(c.service_id) ?? []) w(c);
    waiters.delete(c.service_id);
  }

  return {
    startStream(call) {
      call.on('data', (c: ConnInfo) => announce(c));
      call.on('end', () => hostGone('broker stream ended'));
      call.on('cancelled', () => hostGone('broker stream cancelled'));
      call.on('error', (e: Error) => hostGone(`broker stream failed: ${e.message}`));
      call.on('close', () => hostGone('broker stream closed'));
    },

    connInfo(id, timeoutMs = 5_000) {
      const have = known.get(id);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const list = (waiters.get(id) ?? []).filter((w) => w !== done);
          if (list.length > 0) waiters.set(id, list);
          else waiters.delete(id);
          reject(new Error(`timeout waiting for the broker's connection info ${id}`));
        }, timeoutMs);
        const done = (c: ConnInfo): void => {
          clearTimeout(timer);
          resolve(c);
        };
        waiters.set(id, [...(waiters.get(id) ?? []), done]);
      });
    },

    async dial(id) {
      const info = await this.connInfo(id);
      const target = info.network === 'unix' ? `unix://${info.address}` : info.address;
      const creds = grpc.credentials.createSsl(
        Buffer.from(tls.hostCertPem),
        Buffer.from(tls.keyPem),
        Buffer.from(tls.certPem),
      );
      return new grpc.Channel(target, creds, {
        ...UNLIMITED_MESSAGES,
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.default_authority': 'localhost',
      });
    },
  };
}
