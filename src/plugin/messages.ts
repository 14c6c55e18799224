/**
 * TypeScript shapes of the protocol messages we read and write (proto-text.ts), as proto-loader
 * decodes them (keepCase, longs as strings, defaults filled in). On encode, absent sub-messages
 * stay `undefined`: an empty `err` object would count as an error on the host side.
 */

/** ProtoError.err_type values (OpenBao sdk/plugin/pb translation). */
export const ErrType = {
  unknown: 0,
  user: 1,
  internal: 2,
  coded: 3,
  badRequest: 4,
  unsupportedOperation: 5,
  unsupportedPath: 6,
  invalidRequest: 7,
  permissionDenied: 8,
} as const;

export interface ProtoError {
  readonly err_type: number;
  readonly err_msg: string;
  readonly err_code?: string;
}

export interface PbRequest {
  readonly id: string;
  readonly operation: string;
  readonly path: string;
  /** JSON text of the fields; "null" or "" when there are none. */
  readonly data: string;
  readonly mount_point: string;
  readonly mount_type: string;
  readonly mount_accessor: string;
}

export interface PbResponse {
  /** JSON text of an object; must parse on the host (never ""). */
  readonly data: string;
  readonly warnings: readonly string[];
}

export interface HandleRequestArgs {
  readonly storage_id: number;
  readonly request?: PbRequest | null;
}

export interface HandleRequestReply {
  readonly response?: PbResponse;
  readonly err?: ProtoError;
}

export interface HandleExistenceCheckReply {
  readonly check_found: boolean;
  readonly exists: boolean;
  readonly err?: ProtoError;
}

export interface SetupArgs {
  readonly broker_id: number;
  readonly Config: Readonly<Record<string, string>>;
  readonly backendUUID: string;
}

export interface SpecialPaths {
  readonly root: readonly string[];
  readonly unauthenticated: readonly string[];
  readonly local_storage: readonly string[];
  readonly seal_wrap_storage: readonly string[];
  readonly write_forwarded_storage: readonly string[];
}

/** go-plugin's broker message: where the host serves a brokered service. */
export interface ConnInfo {
  readonly service_id: number;
  readonly network: string;
  readonly address: string;
}

export interface StorageEntry {
  readonly key: string;
  readonly value: Buffer;
  readonly seal_wrap?: boolean;
}
