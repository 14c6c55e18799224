/**
 * The wire contract of the plugin protocol, written for this project from the field lists of
 * shared/spec/openbao-plugin-protocol.md (packages, services, method names, field numbers and
 * types are what go-plugin and OpenBao put on the wire). Only the fields we read or write are
 * declared: protobuf decoders skip unknown fields, so a smaller schema stays compatible.
 * Kept as text in a module so the single-file bundle needs no .proto files at run time.
 */

/** Package `pb`: the backend the plugin serves, and the storage it calls back through the broker. */
export const PB_PROTO = `
syntax = "proto3";
package pb;

message Empty {}

message Header { repeated string header = 1; }

message ProtoError {
  uint32 err_type = 1;
  string err_msg = 2;
  int64 err_code = 3;
}

message Paths {
  repeated string root = 1;
  repeated string unauthenticated = 2;
  repeated string local_storage = 3;
  repeated string seal_wrap_storage = 4;
  repeated string write_forwarded_storage = 5;
}

message Request {
  string id = 1;
  string operation = 3;
  string path = 4;
  string data = 5;
  string mount_point = 12;
  string mount_type = 13;
  string mount_accessor = 14;
}

message Response {
  string data = 3;
  repeated string warnings = 5;
  map<string, Header> headers = 7;
}

message HandleRequestArgs { uint32 storage_id = 1; Request request = 2; }
message HandleRequestReply { Response response = 1; ProtoError err = 2; }
message InitializeArgs {}
message InitializeReply { ProtoError err = 1; }
message SpecialPathsReply { Paths paths = 1; }
message HandleExistenceCheckArgs { uint32 storage_id = 1; Request request = 2; }
message HandleExistenceCheckReply { bool check_found = 1; bool exists = 2; ProtoError err = 3; }
message SetupArgs { uint32 broker_id = 1; map<string, string> Config = 2; string backendUUID = 3; }
message SetupReply { string err = 1; }
message TypeReply { uint32 type = 1; }
message InvalidateKeyArgs { string key = 1; }

service Backend {
  rpc HandleRequest(HandleRequestArgs) returns (HandleRequestReply);
  rpc SpecialPaths(Empty) returns (SpecialPathsReply);
  rpc HandleExistenceCheck(HandleExistenceCheckArgs) returns (HandleExistenceCheckReply);
  rpc Cleanup(Empty) returns (Empty);
  rpc InvalidateKey(InvalidateKeyArgs) returns (Empty);
  rpc Setup(SetupArgs) returns (SetupReply);
  rpc Initialize(InitializeArgs) returns (InitializeReply);
  rpc Type(Empty) returns (TypeReply);
}

message StorageEntry { string key = 1; bytes value = 2; bool seal_wrap = 3; }
message StorageListArgs { string prefix = 1; string txn = 2; }
message StorageListReply { repeated string keys = 1; string err = 2; }
message StorageGetArgs { string key = 1; string txn = 2; }
message StorageGetReply { StorageEntry entry = 1; string err = 2; }
message StoragePutArgs { StorageEntry entry = 1; string txn = 2; }
message StoragePutReply { string err = 1; }
message StorageDeleteArgs { string key = 1; string txn = 2; }
message StorageDeleteReply { string err = 1; }
message StorageIsTransactionalReply { bool transactional = 1; }

service Storage {
  rpc List(StorageListArgs) returns (StorageListReply);
  rpc Get(StorageGetArgs) returns (StorageGetReply);
  rpc Put(StoragePutArgs) returns (StoragePutReply);
  rpc Delete(StorageDeleteArgs) returns (StorageDeleteReply);
  rpc IsTransactional(Empty) returns (StorageIsTransactionalReply);
}

message TTLReply { int64 TTL = 1; }

service SystemView {
  rpc DefaultLeaseTTL(Empty) returns (TTLReply);
  rpc MaxLeaseTTL(Empty) returns (TTLReply);
}
`;

/** Package `logical`: the version the plugin reports. */
export const LOGICAL_PROTO = `
syntax = "proto3";
package logical;

message Empty {}
message VersionReply { string plugin_version = 1; }

service PluginVersion {
  rpc Version(Empty) returns (VersionReply);
}
`;

/** Package `plugin`: go-plugin's own services (broker, controller, stdio). */
export const PLUGIN_PROTO = `
syntax = "proto3";
package plugin;

message Empty {}

message ConnInfo {
  uint32 service_id = 1;
  string network = 2;
  string address = 3;
  message Knock {
    bool knock = 1;
    bool ack = 2;
    string error = 3;
  }
  Knock knock = 4;
}

service GRPCBroker {
  rpc StartStream(stream ConnInfo) returns (stream ConnInfo);
}

service GRPCController {
  rpc Shutdown(Empty) returns (Empty);
}

message StdioData {
  enum Channel {
    INVALID = 0;
    STDOUT = 1;
    STDERR = 2;
  }
  Channel channel = 1;
  bytes data = 2;
}

service GRPCStdio {
  rpc StreamStdio(Empty) returns (stream StdioData);
}
`;

/** Package `grpc.health.v1`: the standard health service go-plugin clients may ask. */
export const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;

message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;
  }
  ServingStatus status = 1;
}

service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`;
