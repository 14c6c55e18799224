/**
 * The go-plugin server runtime: everything a process started by OpenBao must do before and
 * around the backend. Check the cookie and protocol (refuse with exit 1), make a per-process
 * certificate, serve gRPC with mTLS (the host's certificate is the only accepted client) on a
 * fresh unix socket, write the handshake line, serve health/controller/stdio/broker, ignore
 * SIGINT (the host stops us, not the terminal), and exit promptly on Shutdown, on SIGTERM or when
 * the host's broker stream ends — removing the socket file every time.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logging.js';
import type { BackgroundFactory } from './background.js';
import { createBackend, type BackendDeps } from './backend.js';
import { createBroker } from './broker.js';
import { createLocalhostCertificate, unpaddedBase64 } from './cert.js';
import { decideStart, handshakeLine } from './handshake.js';
import { protocolServices, UNLIMITED_MESSAGES } from './proto.js';

/** Everything the runtime needs from its surroundings (main.ts passes the real process's). */
export interface ServeOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly version: string;
  readonly dataDir: string;
  readonly apiServices: BackendDeps['apiServices'];
  readonly background?: BackgroundFactory;
  /** Paths to serve instead of apiPaths (test probes only). */
  readonly paths?: BackendDeps['paths'];
  /** Writes to stdout (the handshake and the protocol refusal). */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly exit: (code: number) => never;
}

/** How long background work may take to stop before the process exits anyway (host waits 2 s). */
const STOP_BUDGET_MS = 1_200;

/** Serve until the host is done with us; resolves once the handshake line is written. */
export async function servePlugin(opts: ServeOptions): Promise<void> {
  const decision = decideStart(opts.env);
  if (decision.kind === 'refuse') {
    (decision.stream === 'stdout' ? opts.stdout : opts.stderr)(decision.message);
    opts.exit(1);
  }
  const hostCertPem = decision.hostCertPem;
  const log = opts.logger.child({ component: 'runtime' });
  const cert = await createLocalhostCertificate();
  const protocol = protocolServices();
  const server = new grpc.Server(UNLIMITED_MESSAGES);
  const socketPath = join(
    opts.env['PLUGIN_UNIX_SOCKET_DIR'] || tmpdir(),
    `plugin${randomBytes(6).toString('hex')}`,
  );
  const removeSocket = (): void => rmSync(socketPath, { force: true });

  let stopping = false;
  async function shutdown(why: string, code = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down');
    const timer = new Promise((r) => setTimeout(r, STOP_BUDGET_MS).unref());
    await Promise.race([backend.stop().catch(() => undefined), timer]);
    // Let answers in flight (Shutdown's own) reach the host; the broker stream never ends by
    // itself, so a short grace period ends in a forced shutdown.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 200);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    removeSocket();
    opts.exit(code);
  }

  const broker = createBroker(
    { hostCertPem, certPem: cert.certPem, keyPem: cert.keyPem },
    (why) => {
      void shutdown(`host gone: ${why}`);
    },
  );
  const backend = createBackend({
    broker,
    protocol,
    logger: opts.logger,
    version: opts.version,
    dataDir: opts.dataDir,
    apiServices: opts.apiServices,
    ...(opts.background ? { background: opts.background } : {}),
    ...(opts.paths ? { paths: opts.paths } : {}),
  });

  server.addService(protocol.backend, backend.backend);
  server.addService(protocol.pluginVersion, backend.pluginVersion);
  server.addService(protocol.broker, { StartStream: broker.startStream });
  server.addService(protocol.controller, {
    Shutdown: (_call: unknown, cb: grpc.sendUnaryData<object>) => {
      cb(null, {});
      setImmediate(() => void shutdown('shutdown requested by the host'));
    },
  });
  // Open and silent: our output goes to stderr as hclog lines, which the host reads directly.
  server.addService(protocol.stdio, { StreamStdio: () => undefined });
  server.addService(protocol.health, {
    Check: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, { status: 1 }),
    Watch: (call: grpc.ServerWritableStream<object, object>) => call.write({ status: 1 }),
  });

  process.on('SIGINT', () => log.debug({}, 'SIGINT ignored (the host stops plugins)'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('exit', removeSocket);
  process.on('uncaughtException', (e) => {
    log.error({ error: e.message }, 'uncaught exception');
    void shutdown('uncaught exception', 1);
  });

  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(hostCertPem),
    [{ private_key: Buffer.from(cert.keyPem), cert_chain: Buffer.from(cert.certPem) }],
    true,
  );
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, creds, (e) => (e ? reject(e) : resolve()));
  });
  opts.stdout(handshakeLine(socketPath, unpaddedBase64(cert.der)));
  log.debug({ socket: socketPath, version: opts.version }, 'serving');
}
