/**
 * Loads the embedded protocol text (proto-text.ts) into gRPC service definitions, in memory:
 * the bundled executable must not look for .proto files next to itself (OpenBao runs it with the
 * server's working directory, and the plugin directory may hold only the executable).
 */
import * as grpc from '@grpc/grpc-js';
import { fromJSON, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { HEALTH_PROTO, LOGICAL_PROTO, PB_PROTO, PLUGIN_PROTO } from './proto-text.js';

/**
 * proto-loader options (§5 of the spec): field names exactly as on the wire (`broker_id`,
 * `backendUUID`), int64 as strings (no precision loss), enums as numbers, defaults filled in
 * on decode so absent strings read as ''.
 */
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
};

/** Parse all four schemas into one package definition (once per process; cheap). */
export function loadProtocol(): PackageDefinition {
  const root = new protobuf.Root();
  for (const text of [PB_PROTO, LOGICAL_PROTO, PLUGIN_PROTO, HEALTH_PROTO]) {
    protobuf.parse(text, root, { keepCase: true });
  }
  return fromJSON(root.toJSON(), LOADER_OPTIONS);
}

/** The service definitions a plugin serves or calls, by their full wire names. */
export interface ProtocolServices {
  readonly backend: grpc.ServiceDefinition;
  readonly storage: grpc.ServiceDefinition;
  readonly systemView: grpc.ServiceDefinition;
  readonly pluginVersion: grpc.ServiceDefinition;
  readonly broker: grpc.ServiceDefinition;
  readonly controller: grpc.ServiceDefinition;
  readonly stdio: grpc.ServiceDefinition;
  readonly health: grpc.ServiceDefinition;
}

function service(def: PackageDefinition, name: string): grpc.ServiceDefinition {
  const s = def[name];
  if (!s || 'format' in s) throw new Error(`protocol: ${name} is not a service`);
  return s as grpc.ServiceDefinition;
}

/** Every service of the protocol, looked up once. */
export function protocolServices(def: PackageDefinition = loadProtocol()): ProtocolServices {
  return {
    backend: service(def, 'pb.Backend'),
    storage: service(def, 'pb.Storage'),
    systemView: service(def, 'pb.SystemView'),
    pluginVersion: service(def, 'logical.PluginVersion'),
    broker: service(def, 'plugin.GRPCBroker'),
    controller: service(def, 'plugin.GRPCController'),
    stdio: service(def, 'plugin.GRPCStdio'),
    health: service(def, 'grpc.health.v1.Health'),
  };
}

/** A client constructor for one service (grpc-js makes the method stubs from the definition). */
export function clientFor(
  def: grpc.ServiceDefinition,
  name: string,
): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(def, name);
}

/** gRPC channel/server options both ends use: no message size limits (OpenBao uses MaxInt32). */
export const UNLIMITED_MESSAGES = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
} as const;
