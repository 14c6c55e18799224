/**
 * The one owner of a mount's settings. Every reader and writer of configuration, vault requests,
 * trusted PGP and SSH keys, git credentials, the git SSH key, webhook endpoints, vault access and
 * task settings — the API paths, the pipeline, the scheduler (through the mount runtime) and the
 * webhook receiver — goes through here instead of raw storage keys, so that:
 * - what is read back is checked against the same schema that checked the write
 *   (./settings-schemas.ts), and a stored value that no longer fits is reported, not used;
 * - every write is announced to the subscribers of ./settings-events.ts (e.g. the webhook
 *   endpoint index), with no one watching key names.
 */
import type { z } from 'zod';
import { AppError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';
import { formatIssues } from './field-errors.js';
import type { SettingsEvents } from './settings-events.js';
import {
  Configuration,
  ContainerSettings,
  GitCredential,
  GitSshKey,
  TaskSettings,
  TrustedKey,
  TrustedSshKey,
  VaultAccess,
  VaultRequest,
  WebhookEndpoint,
} from './settings-schemas.js';
import { keyInMount, StorageKeys, type SettingName } from './stored.js';

/**
 * The storage keys of the settings that hold secrets (exact keys, or prefixes ending in '/'):
 * the plugin asks OpenBao to seal-wrap them where the seal can.
 */
export const SECRET_SETTING_KEYS: readonly string[] = [
  StorageKeys.gitCredential,
  StorageKeys.gitSshKey,
  StorageKeys.vaultAccess,
  StorageKeys.webhookPrefix,
];

/**
 * True for a key of the service's whole store (`mounts/<mount>/<setting key>`) that holds a
 * secret setting: what the file store seals at rest when a seal key is given.
 */
export function isSecretStoreKey(key: string): boolean {
  const rel = keyInMount(key);
  if (rel === undefined) return false;
  return SECRET_SETTING_KEYS.some((k) => (k.endsWith('/') ? rel.startsWith(k) : rel === k));
}

/** A setting kept once per mount. */
export interface SingleSetting<T> {
  /** The stored value (checked), or undefined when none was written. */
  get(): Promise<T | undefined>;
  put(value: T): Promise<void>;
  delete(): Promise<void>;
}

/** A setting kept per name (vault requests, trusted PGP/SSH keys, webhook endpoints). */
export interface NamedSetting<T> {
  /** The stored value (checked), or undefined when there is none by that name. */
  get(name: string): Promise<T | undefined>;
  /** The names stored, sorted. */
  names(): Promise<string[]>;
  /** Every stored value that passes its schema, in name order; the others are logged, skipped. */
  all(): Promise<Array<{ readonly name: string; readonly value: T }>>;
  put(name: string, value: T): Promise<void>;
  delete(name: string): Promise<void>;
}

/** A mount's settings, typed and checked. */
export interface MountSettings {
  readonly configuration: SingleSetting<Configuration>;
  readonly gitCredential: SingleSetting<GitCredential>;
  readonly gitSshKey: SingleSetting<GitSshKey>;
  readonly vaultAccess: SingleSetting<VaultAccess>;
  readonly taskSettings: SingleSetting<TaskSettings>;
  readonly containerSettings: SingleSetting<ContainerSettings>;
  readonly vaultRequests: NamedSetting<VaultRequest>;
  readonly trustedKeys: NamedSetting<TrustedKey>;
  readonly trustedSshKeys: NamedSetting<TrustedSshKey>;
  readonly webhooks: NamedSetting<WebhookEndpoint>;
  /** The task settings, with the schema's defaults when none were written. */
  effectiveTaskSettings(): Promise<TaskSettings>;
  /** The container settings, with the schema's (locked-down) defaults when none were written. */
  effectiveContainerSettings(): Promise<ContainerSettings>;
  /** Forget what the read cache holds (see MountSettingsOptions.cacheMaxAgeMs); a no-op without. */
  dropCache(): void;
}

/** Options of the owner. */
export interface MountSettingsOptions {
  /** The mount, named in change notices and log lines. */
  readonly mount?: string;
  /** Where writes are announced; absent: nobody listens. */
  readonly events?: SettingsEvents;
  /** Where skipped invalid items of a list are reported. */
  readonly logger?: Logger;
  /**
   * Keep the settings kept once per mount (configuration, git credential and SSH key, …) in
   * memory for at most this many milliseconds (asked at each read; 0: read the store every time).
   * Honoured only with `events`: a long-lived owner (a mount runtime's, whose polls and poll
   * period — asked by the scheduler at every tick — both read through it) subscribes to the hub,
   * so a write through any owner in this process drops the cached value at once. Writes by another
   * replica (Vault KV) or another OpenBao node are not announced here: the maximum age is what
   * bounds how long they go unseen, so the caller keeps it at most one poll period.
   */
  readonly cacheMaxAgeMs?: () => number;
  /** The clock of the cache (default Date.now). */
  readonly nowMs?: () => number;
}

/** The defaults of `task/configure`, from its schema (30m, 10). */
export const DEFAULT_TASK_SETTINGS: TaskSettings = TaskSettings.parse({});

/** The defaults of `configure/container`: the locked-down container. */
export const DEFAULT_CONTAINER_SETTINGS: ContainerSettings = ContainerSettings.parse({});

/**
 * The settings of the mount whose storage is `store` (already scoped to `mounts/<mount>/`).
 * Cheap to build (it keeps only the last checked value per key), so a transport may build one
 * per request; a long-lived owner (a mount runtime's) skips re-checking an unchanged value.
 */
export function mountSettings(store: Store, opts: MountSettingsOptions = {}): MountSettings {
  const mount = opts.mount ?? '';
  const announce = (setting: SettingName, name?: string): void =>
    opts.events?.notify({ mount, setting, ...(name === undefined ? {} : { name }) });

  // The last value checked per key, by its JSON text: a poll reads the same configuration again
  // and again, and checking its text costs far less than running the schema.
  const checked = new Map<string, { readonly json: string; readonly value: unknown }>();
  const check = <T>(schema: z.ZodType<T>, setting: SettingName, key: string, v: unknown): T => {
    const json = JSON.stringify(v);
    const last = checked.get(key);
    if (last?.json === json) return last.value as T;
    const r = schema.safeParse(v);
    if (r.success) {
      checked.set(key, { json, value: r.data });
      return r.data;
    }
    throw new AppError(
      'NOT_CONFIGURED',
      `the stored ${setting} at ${key} is invalid (${formatIssues(r.error).join('; ')}); write it again`,
      { details: { setting, key } },
    );
  };

  // The read cache of the single settings: the value (undefined: none stored) and when it was
  // read. Dropped by every announced write of the setting (this owner's own included) and by
  // dropCache(); otherwise served until it is cacheMaxAgeMs() old. A read that overlapped a
  // drop is not kept (it may have read the value the write replaced): `drops` counts them.
  const maxAgeMs = opts.events === undefined ? undefined : opts.cacheMaxAgeMs;
  const nowMs = opts.nowMs ?? Date.now;
  const cache = new Map<SettingName, { readonly value: unknown; readonly at: number }>();
  let drops = 0;
  const drop = (setting?: SettingName): void => {
    drops++;
    if (setting === undefined) cache.clear();
    else cache.delete(setting);
  };
  if (maxAgeMs !== undefined) {
    opts.events?.subscribe((c) => {
      if (c.mount === mount) drop(c.setting);
    });
  }

  const single = <T>(schema: z.ZodType<T>, setting: SettingName, key: string) => ({
    async get(): Promise<T | undefined> {
      const hit = cache.get(setting);
      if (hit !== undefined && maxAgeMs !== undefined && nowMs() - hit.at < maxAgeMs()) {
        return hit.value as T | undefined;
      }
      const at = nowMs();
      const before = drops;
      const e = await store.get(key);
      const value = e === undefined ? undefined : check(schema, setting, key, e.value);
      if (maxAgeMs !== undefined && drops === before) cache.set(setting, { value, at });
      return value;
    },
    async put(value: T): Promise<void> {
      drop(setting);
      await store.put(key, value);
      drop(setting);
      announce(setting);
    },
    async delete(): Promise<void> {
      drop(setting);
      await store.delete(key);
      drop(setting);
      announce(setting);
    },
  });

  const named = <T>(
    schema: z.ZodType<T>,
    setting: SettingName,
    prefix: string,
  ): NamedSetting<T> => {
    const names = async (): Promise<string[]> =>
      (await store.list(prefix)).filter((n) => !n.endsWith('/'));
    const get = async (name: string): Promise<T | undefined> => {
      const e = await store.get(prefix + name);
      return e === undefined ? undefined : check(schema, setting, prefix + name, e.value);
    };
    return {
      get,
      names,
      async all() {
        const out: Array<{ name: string; value: T }> = [];
        for (const name of await names()) {
          try {
            const value = await get(name);
            if (value !== undefined) out.push({ name, value });
          } catch (e) {
            if (!(e instanceof AppError && e.code === 'NOT_CONFIGURED')) throw e;
            opts.logger?.warn({ mount, setting, name }, 'stored setting is invalid; skipped');
          }
        }
        return out;
      },
      async put(name, value) {
        await store.put(prefix + name, value);
        announce(setting, name);
      },
      async delete(name) {
        await store.delete(prefix + name);
        announce(setting, name);
      },
    };
  };

  const taskSettings = single(TaskSettings, 'task_settings', StorageKeys.taskConfiguration);
  const containerSettings = single(
    ContainerSettings,
    'container_settings',
    StorageKeys.containerSettings,
  );
  return {
    configuration: single(Configuration, 'configuration', StorageKeys.configuration),
    gitCredential: single(GitCredential, 'git_credential', StorageKeys.gitCredential),
    gitSshKey: single(GitSshKey, 'git_ssh_key', StorageKeys.gitSshKey),
    vaultAccess: single(VaultAccess, 'vault_access', StorageKeys.vaultAccess),
    taskSettings,
    containerSettings,
    vaultRequests: named(VaultRequest, 'vault_request', StorageKeys.vaultRequestPrefix),
    trustedKeys: named(TrustedKey, 'trusted_key', StorageKeys.trustedKeyPrefix),
    trustedSshKeys: named(TrustedSshKey, 'trusted_ssh_key', StorageKeys.trustedSshKeyPrefix),
    webhooks: named(WebhookEndpoint, 'webhook', StorageKeys.webhookPrefix),
    async effectiveTaskSettings() {
      return (await taskSettings.get()) ?? DEFAULT_TASK_SETTINGS;
    },
    async effectiveContainerSettings() {
      return (await containerSettings.get()) ?? DEFAULT_CONTAINER_SETTINGS;
    },
    dropCache() {
      drop();
    },
  };
}
