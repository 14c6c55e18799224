/**
 * One zod schema per stored shape of a mount's settings; each inferred type carries the schema's
 * name. A schema is at once the API's parser (with the CLI coercions of ./fields.ts), the check
 * applied when a setting is read back from storage (./mount-settings.ts), and the source of the
 * help that `bao path-help` and the README reference show (`fieldSpecs`). Defaults are written
 * here once, as an operator would write them (`git_poll_period` defaults to `5m`).
 */
import { z } from 'zod';
import { WEBHOOK_SOURCES } from '../webhook/types.js';
import {
  boolField,
  byteSizeField,
  commaListField,
  durationField,
  intField,
  nameField,
  objectField,
  oneOfField,
  stringField,
} from './fields.js';
import {
  POLL_PERIOD_MAX_SECONDS,
  REQUIRED_SIGNATURES_MAX,
  TASK_HISTORY_MAX,
  TASK_TIMEOUT_MAX_SECONDS,
  TTL_MAX_SECONDS,
  WEBHOOK_BACKENDS_MAX,
} from './limits.js';
import { branchNameRule } from './rules/branch-name.js';
import { capabilityName } from './rules/capabilities.js';
import { gitUrlRule } from './rules/git-url.js';
import { isHttpUrl } from './rules/http-url.js';
import { imageRefRule } from './rules/image-ref.js';
import { commitIdRule } from './rules/names.js';
import { canonicalSshPublicKey, sshPublicKeyRule } from './rules/ssh-public-key.js';

function commandRules(list: readonly string[]): string[] {
  if (list.length === 0) return ['must not be empty'];
  if (list.some((c) => c === '')) return ['must not contain an empty command'];
  if (list.some((c) => /[\r\n]/.test(c))) {
    return ['must not contain newlines (give one command per item)'];
  }
  return [];
}

/** `configure`: which repository and branch to follow, how often, N, and the image and commands. */
export const Configuration = z.strictObject({
  git_repo_url: stringField({
    check: gitUrlRule,
    description:
      'Git repository URL (http(s)://, ssh://, git://, file://, user@host:path, or a local path).',
  }),
  git_branch_name: stringField({
    default: 'main',
    check: branchNameRule,
    description: 'Branch to follow.',
  }),
  git_poll_period: durationField({
    default: '5m',
    max: POLL_PERIOD_MAX_SECONDS,
    description: 'How often to poll; 0 = every scheduler tick; at most 8760h (a year).',
  }),
  required_number_of_verified_signatures_on_commit: intField({
    default: 0,
    min: 0,
    max: REQUIRED_SIGNATURES_MAX,
    description: `Trusted signatures a tip needs (0 = none, at most ${REQUIRED_SIGNATURES_MAX}).`,
  }),
  initial_last_successful_commit: stringField({
    default: '',
    check: (s) =>
      s === '' || commitIdRule(s) === undefined
        ? undefined
        : 'must be empty or a 40- or 64-hex commit id',
    description: 'Commit to start from when none was processed yet (40- or 64-hex).',
  }),
  docker_image: stringField({
    check: imageRefRule,
    description: 'Pinned image: REPO[:TAG]@sha256:<digest> or a local image id sha256:<digest>.',
  }),
  commands: commaListField({
    check: commandRules,
    description:
      'Commands run in order with /bin/sh -c in /git; a JSON list keeps commas inside a command.',
  }),
});
export type Configuration = z.infer<typeof Configuration>;

/** `configure/vault_request/<name>`: one Vault request made in wrapped mode before a run. */
export const VaultRequest = z.strictObject({
  name: nameField({
    description:
      'Request name (from the URL); the token reaches the command as VAULT_REQUEST_TOKEN_<NAME>.',
  }),
  path: stringField({
    check: (s) =>
      s.startsWith('/') && !/\s/.test(s)
        ? undefined
        : 'must start with / (e.g. /v1/secret/data/app) and contain no spaces',
    description: 'Vault API path, starting with / (usually /v1/...).',
  }),
  method: oneOfField(['GET', 'POST', 'LIST', 'PUT', 'DELETE'], {
    default: 'GET',
    description: 'One of GET POST LIST PUT DELETE.',
  }),
  options: objectField({
    default: {},
    description: 'JSON body sent with the request when non-empty.',
  }),
  wrap_ttl: durationField({
    default: '1m',
    min: 60,
    max: TTL_MAX_SECONDS,
    description: 'TTL of the wrapping token (60s to 768h).',
  }),
});
export type VaultRequest = z.infer<typeof VaultRequest>;

/** `configure/trusted_pgp_public_key/<name>`: a key whose signatures count. */
export const TrustedKey = z.strictObject({
  name: nameField({ description: 'Name of the key.' }),
  public_key: stringField({
    nonEmpty: true,
    description: 'ASCII-armored OpenPGP public key (e.g. public_key=@alice.asc).',
  }),
});
export type TrustedKey = z.infer<typeof TrustedKey>;

/**
 * `configure/trusted_ssh_public_key/<name>`: an SSH key whose signatures (commit `gpgsig` or note
 * line) count toward the same quorum as PGP ones; stored as its canonical `.pub` line.
 */
export const TrustedSshKey = z.strictObject({
  name: nameField({ description: 'Name of the key.' }),
  public_key: stringField({
    nonEmpty: true,
    check: sshPublicKeyRule,
    normalise: canonicalSshPublicKey,
    description:
      'One SSH public key line: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (≥ 2048 bits) or ' +
      'sk-ssh-ed25519@openssh.com / sk-ecdsa-sha2-nistp256@openssh.com (e.g. public_key=@bob.pub).',
  }),
});
export type TrustedSshKey = z.infer<typeof TrustedSshKey>;

/** `configure/git_credential`: HTTP(S) basic auth to the git host; the password is write-only. */
export const GitCredential = z.strictObject({
  username: stringField({ nonEmpty: true, description: 'User name for HTTP(S) basic auth.' }),
  password: stringField({
    nonEmpty: true,
    sensitive: true,
    description: 'Password or access token (never returned).',
  }),
});
export type GitCredential = z.infer<typeof GitCredential>;

/** `configure/git_ssh_key`: key and known_hosts for ssh:// and scp-style URLs; key write-only. */
export const GitSshKey = z.strictObject({
  private_key: stringField({
    check: (s) =>
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(s)
        ? undefined
        : 'must be a PEM/OpenSSH private key (-----BEGIN … PRIVATE KEY-----)',
    sensitive: true,
    description: 'Private key without passphrase (e.g. private_key=@id_ed25519); never returned.',
  }),
  known_hosts: stringField({
    nonEmpty: true,
    description: 'known_hosts lines for the git host (e.g. known_hosts=@known_hosts).',
  }),
});
export type GitSshKey = z.infer<typeof GitSshKey>;

function backendRule(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return 'each backend must be an http(s) URL';
  }
  if (u.username !== '' || u.password !== '') return 'backend URLs must not carry credentials';
  return undefined;
}

/** `configure/webhook/<name>`: a webhook endpoint; its secret is write-only. */
export const WebhookEndpoint = z.strictObject({
  name: nameField({ description: 'Endpoint name (from the URL), used in logs.' }),
  source: oneOfField(WEBHOOK_SOURCES, { description: `Sender: ${WEBHOOK_SOURCES.join(', ')}.` }),
  secret: stringField({
    nonEmpty: true,
    sensitive: true,
    description:
      'Shared secret (write-only; e.g. secret=@secret.key). Deliveries go to /hook/<sha256 of it>.',
  }),
  branch: stringField({
    default: '',
    check: (s) => (/\s/.test(s) ? 'must not contain spaces' : undefined),
    description: "Only pushes to this branch request a poll; empty = the mount's git_branch_name.",
  }),
  backends: commaListField({
    default: [],
    check: (list) =>
      list.length > WEBHOOK_BACKENDS_MAX
        ? [`must list at most ${WEBHOOK_BACKENDS_MAX} backends`]
        : list.flatMap((b) => backendRule(b) ?? []),
    description: `http(s) URLs each verified delivery is forwarded to, unchanged (at most ${WEBHOOK_BACKENDS_MAX}).`,
  }),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

const trimSlashes = (s: string): string => s.replace(/^\/+|\/+$/g, '');

/** What an operator writes to `configure_vault_access` (the stored shape is `VaultAccess`). */
export const VaultAccessInput = z.strictObject({
  vault_addr: stringField({
    check: (s) => (isHttpUrl(s) ? undefined : 'must be an http(s) URL'),
    normalise: (s) => s.replace(/\/+$/, ''),
    description: 'Target Vault URL, e.g. https://vault.example.com:8200.',
  }),
  vault_tls_server_name: stringField({
    nonEmpty: true,
    description: 'TLS server name for the connection; also passed to the command.',
  }),
  vault_cacert: stringField({
    default: '',
    check: (s) =>
      s === '' || s.includes('-----BEGIN CERTIFICATE-----')
        ? undefined
        : 'must be empty or PEM certificates',
    description: 'PEM CA certificate(s) of the target Vault (e.g. vault_cacert=@ca.pem).',
  }),
  role_name: stringField({ nonEmpty: true, description: 'AppRole role name.' }),
  role_id: stringField({ nonEmpty: true, description: 'AppRole role id.' }),
  secret_id: stringField({
    nonEmpty: true,
    sensitive: true,
    description: 'An AppRole secret id; destroyed after the service minted its own.',
  }),
  secret_id_ttl: durationField({
    default: '1h',
    min: 120,
    max: TTL_MAX_SECONDS,
    description: 'TTL of the secret ids the service mints (120s to 768h).',
  }),
  approle_mount_point: stringField({
    check: (s) => (trimSlashes(s) === '' ? 'must not be empty' : undefined),
    normalise: trimSlashes,
    description: 'AppRole mount, e.g. auth/approle (trailing / trimmed).',
  }),
  token_ttl: durationField({
    default: '10m',
    min: 20,
    max: TTL_MAX_SECONDS,
    description: 'Longest time a login token is used before logging in again (20s to 768h).',
  }),
});
export type VaultAccessInput = z.infer<typeof VaultAccessInput>;

/**
 * `configure_vault_access` as stored: the operator's fields with the service's own secret id,
 * and when the service minted it (set by the service, never by the operator; absent = unknown).
 */
export const VaultAccess = VaultAccessInput.extend({
  secret_id_issued_at: z.string().optional(),
});
export type VaultAccess = z.infer<typeof VaultAccess>;

/** `task/configure`: how long a run may take and how many finished tasks are kept. */
export const TaskSettings = z.strictObject({
  task_timeout: durationField({
    default: '30m',
    min: 1,
    max: TASK_TIMEOUT_MAX_SECONDS,
    description: 'Longest a run may take (seconds or 90s/5m/1h30m; at most 168h).',
  }),
  task_history_limit: intField({
    default: 10,
    min: 0,
    max: TASK_HISTORY_MAX,
    description: `Finished tasks kept, with their logs (at most ${TASK_HISTORY_MAX}).`,
  }),
});
export type TaskSettings = z.infer<typeof TaskSettings>;

const USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

/**
 * `configure/container`: how far the command container is locked down. The defaults are the
 * strict end (no capability, read-only image filesystem, the service's own uid, pids and memory
 * bounded); each field loosens one thing, for commands that need it.
 */
export const ContainerSettings = z.strictObject({
  user: stringField({
    default: '',
    check: (s) =>
      s === '' || USER_PATTERN.test(s) ? undefined : 'must be empty, uid[:gid] or name[:group]',
    description:
      "User the commands run as: uid[:gid] or a name the image knows; empty = the service's own uid:gid (it owns /git).",
  }),
  cap_add: commaListField({
    default: [],
    check: (list) =>
      list.flatMap((c) => (capabilityName(c) === undefined ? [`${c} is not a capability`] : [])),
    normalise: (list) => [...new Set(list.map((c) => capabilityName(c) ?? c))],
    description:
      'Capabilities given back after all are dropped, e.g. NET_BIND_SERVICE,CHOWN (CAP_ prefix optional).',
  }),
  read_only_root_fs: boolField({
    default: true,
    description: "The image's filesystem read-only (/git and a tmpfs /tmp stay writable).",
  }),
  memory_limit: byteSizeField({
    default: '1g',
    min: 8 * 1024 * 1024,
    zeroAllowed: true,
    description: 'Memory per container, /tmp included (bytes or 512m, 2g; 0 = no limit).',
  }),
  pids_limit: intField({
    default: 512,
    min: 0,
    description: 'Processes and threads per container (0 = no limit).',
  }),
  cpus: stringField({
    default: '0',
    check: (s) =>
      /^\d{1,3}(\.\d{1,3})?$/.test(s.trim()) ? undefined : 'must be a number of CPUs like 1 or 0.5',
    normalise: (s) => s.trim(),
    description: 'CPUs per container, e.g. 0.5 or 2 (0 = no limit).',
  }),
  tmp_size: byteSizeField({
    default: '64m',
    min: 1024 * 1024,
    description: 'Size of the writable tmpfs at /tmp (counts toward memory_limit).',
  }),
});
export type ContainerSettings = z.infer<typeof ContainerSettings>;
