/**
 * A fake plugin host: plays go-plugin and OpenBao against the BUILT plugin executable, the way
 * §1.1–1.5 of the protocol spec describe it. It makes its own P-521 host certificate, spawns
 * the executable with the launch environment, parses the handshake line, dials the plugin with
 * mTLS, opens the broker stream, serves an in-memory pb.Storage on a second unix socket (mTLS,
 * the plugin's certificate as the only accepted client) and announces it with a ConnInfo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLocalhostCertificate, type PluginCertificate } from '../../src/plugin/cert.js';
import { MAGIC_COOKIE_VALUE } from '../../src/plugin/handshake.js';
import { clientFor, protocolServices, UNLIMITED_MESSAGES } from '../../src/plugin/proto.js';
import { memoryPbStorage, type MemoryPbStorage } from './memory-pb-storage.js';

const protocol = protocolServices();

/** The launch environment of §1.1 (v5 path), over a minimal PATH/HOME. */
export function launchEnv(hostCertPem: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    VAULT_BACKEND_PLUGIN: MAGIC_COOKIE_VALUE,
    PLUGIN_PROTOCOL_VERSIONS: '5',
    PLUGIN_CLIENT_CERT: hostCertPem,
    PLUGIN_MIN_PORT: '10000',
    PLUGIN_MAX_PORT: '25000',
    BAO_PLUGIN_AUTOMTLS_ENABLED: 'true',
    VAULT_PLUGIN_AUTOMTLS_ENABLED: 'true',
    BAO_VERSION: '2.7.2',
    VAULT_VERSION: '2.7.2',
    // The protocol is under test, not the pipeline (which would poll the example hosts).
    FLANT_GITOPS_PIPELINE: 'off',
    ...extra,
  };
}

/** A spawned process with its collected output. */
export interface Spawned {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (signal → -1). */
  readonly exited: Promise<number>;
}

/** Spawn `exe` with `env`, collecting stdout and stderr. */
export function spawnPlugin(exe: string, env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(exe, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The parsed handshake line. */
export interface Handshake {
  readonly fields: readonly string[];
  readonly socketPath: string;
  readonly certBase64: string;
  readonly cert: X509Certificate;
  readonly certPem: string;
}

/** Parse `1|5|unix|<path>|grpc|<cert>`; throws on anything else. */
export function parseHandshake(line: string): Handshake {
  const fields = line.trim().split('|');
  const [core, app, network, path, proto, certBase64] = fields;
  if (
    fields.length !== 6 ||
    core !== '1' ||
    app !== '5' ||
    network !== 'unix' ||
    proto !== 'grpc'
  ) {
    throw new Error(`bad handshake line: ${line}`);
  }
  const der = Buffer.from(certBase64 ?? '', 'base64');
  const cert = new X509Certificate(der);
  return {
    fields,
    socketPath: path ?? '',
    certBase64: certBase64 ?? '',
    cert,
    certPem: cert.toString(),
  };
}

/** Wait for the first stdout line of `p` (or its exit). */
export async function firstLine(p: Spawned, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!p.stdout().includes('\n')) {
    if (p.child.exitCode !== null) throw new Error(`plugin exited: ${p.stderr()}`);
    if (Date.now() > deadline) throw new Error('no handshake line in time');
    await new Promise((r) => setTimeout(r, 20));
  }
  return p.stdout().split('\n', 1)[0] ?? '';
}

type UnaryCall = (args: object, cb: (e: grpc.ServiceError | null, r?: unknown) => void) => void;

/** A connected fake host. */
export interface FakeHost {
  readonly plugin: Spawned;
  readonly handshake: Handshake;
  readonly hostCert: PluginCertificate;
  readonly storage: MemoryPbStorage;
  /** Unary call of /pb.Backend/<method>. */
  backend<T = Record<string, unknown>>(method: string, args?: object): Promise<T>;
  /** Unary call of another service's method (controller, version, health). */
  call<T = Record<string, unknown>>(
    service: keyof typeof protocol,
    method: string,
    args?: object,
  ): Promise<T>;
  /** Announce the storage server on the broker stream as `serviceId`. */
  announceStorage(serviceId: number): void;
  /** End the broker stream (what a dying host does). */
  endBrokerStream(): void;
  close(): Promise<void>;
}

/** Spawn the executable and connect to it as the host would. */
export async function startFakeHost(
  exe: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<FakeHost> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-fake-host-'));
  const hostCert = await createLocalhostCertificate({ curve: 'P-521', organization: 'HashiCorp' });
  const plugin = spawnPlugin(
    exe,
    launchEnv(hostCert.certPem, { PLUGIN_UNIX_SOCKET_DIR: dir, ...extraEnv }),
  );
  const handshake = parseHandshake(await firstLine(plugin));
  const creds = grpc.credentials.createSsl(
    Buffer.from(handshake.certPem),
    Buffer.from(hostCert.keyPem),
    Buffer.from(hostCert.certPem),
  );
  const channel = new grpc.Channel(`unix://${handshake.socketPath}`, creds, {
    ...UNLIMITED_MESSAGES,
    'grpc.ssl_target_name_override': 'localhost',
  });
  const clients = new Map<string, grpc.Client>();
  const client = (service: keyof typeof protocol): grpc.Client => {
    let c = clients.get(service);
    if (!c) {
      const Ctor = clientFor(protocol[service], service);
      c = new Ctor('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
      clients.set(service, c);
    }
    return c;
  };
  const call = <T>(service: keyof typeof protocol, method: string, args: object = {}): Promise<T> =>
    new Promise((resolve, reject) => {
      const fn = (client(service) as unknown as Record<string, UnaryCall>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      fn.call(client(service), args, (e, r) => (e ? reject(e) : resolve(r as T)));
    });

  const stream = (
    client('broker') as unknown as { StartStream(): grpc.ClientDuplexStream<object, object> }
  ).StartStream();
  stream.on('error', () => undefined);
  const storage = await memoryPbStorage(join(dir, 'storage.sock'), hostCert, handshake.certPem);

  return {
    plugin,
    handshake,
    hostCert,
    storage,
    backend: (method, args) => call('backend', method, args),
    call,
    announceStorage(serviceId) {
      stream.write({ service_id: serviceId, network: 'unix', address: storage.socketPath });
    },
    endBrokerStream: () => stream.cancel(),
    async close() {
      stream.cancel();
      for (const c of clients.values()) c.close();
      channel.close();
      await storage.close();
      if (plugin.child.exitCode === null) plugin.child.kill('SIGKILL');
      await plugin.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
