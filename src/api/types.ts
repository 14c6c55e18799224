/**
 * The transport-independent API seam. Each Vault-style path is a declarative descriptor:
 * a pattern, its fields (with help), and handlers per operation. A handler gets the operation,
 * the path's captures, the request fields and a storage handle, and returns data or throws an
 * AppError. The HTTP server (src/http) is one transport over these descriptors; an OpenBao
 * plugin transport is planned over the very same list. Nothing here may import HTTP types.
 */
import type { FieldSpec } from '../config/fields.js';
import type { LocalRepoPolicy } from '../config/local-repos.js';
import type { SettingsEvents } from '../config/settings-events.js';
import type { Logger } from '../logging.js';
import type { KeyInspector } from '../pgp/types.js';
import type { PipelineControl } from '../pipeline/control.js';
import type { Store } from '../storage/store.js';
import type { VaultAccessService } from '../vault/types.js';

/** Vault's logical operations (`create` is folded into `update`, as `vault write` sends PUT). */
export type Operation = 'read' | 'list' | 'update' | 'delete';

/** Field help is derived from the settings schemas (src/config/fields.ts). */
export type { FieldSpec, FieldType } from '../config/fields.js';

/** What a handler receives. */
export interface PathRequest {
  readonly operation: Operation;
  /** The mount name, e.g. flant_gitops. */
  readonly mount: string;
  /** The path below the mount, e.g. configure/vault_request/get-config. */
  readonly path: string;
  /** Named captures of the descriptor's pattern. */
  readonly captures: Readonly<Record<string, string>>;
  /** Request fields: the JSON body for writes, query parameters for reads and lists. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Services the paths may use besides storage; src/service.ts wires the real ones. */
export interface ApiServices {
  /** Validates trusted PGP keys on write and describes them on read. */
  readonly keyInspector: KeyInspector;
  /** Logs in to the target Vault and stores the access with the service's own secret id. */
  readonly vaultAccess: VaultAccessService;
  /** Polls, next-poll times and task cancel (absent: those paths answer INTERNAL). */
  readonly pipeline?: PipelineControl;
  /** Where settings writes are announced (e.g. to the webhook endpoint index); absent: nowhere. */
  readonly settingsEvents?: SettingsEvents;
  /**
   * Which local repositories `git_repo_url` may name (the operator's approved roots); absent:
   * none, so every local path and file:// URL is refused.
   */
  readonly localRepos?: LocalRepoPolicy;
}

/** What a handler can touch. */
export interface PathContext {
  /** Storage scoped to this mount. */
  readonly store: Store;
  readonly services: ApiServices;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** A handler's answer: data (→ 200 with `data`), or undefined (→ 204). */
export type PathResponse =
  | { readonly data: Readonly<Record<string, unknown>>; readonly warnings?: readonly string[] }
  | undefined;

export type PathHandler = (req: PathRequest, ctx: PathContext) => Promise<PathResponse>;

/** A Vault-style path: pattern, fields, operations and help (cf. Vault's framework.Path). */
export interface PathDescriptor {
  /** Regular expression source matched against the whole path below the mount (no anchors). */
  readonly pattern: string;
  readonly synopsis: string;
  readonly description: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly operations: Readonly<Partial<Record<Operation, PathHandler>>>;
  /**
   * Writes (update, delete) of this path run one at a time per mount: for a rule that reads
   * other entries before it writes (two request names that give one variable), so two
   * concurrent writes cannot both pass it.
   */
  readonly serialiseWrites?: boolean;
}
