/**
 * Secrets sealed at rest: a Store decorator that encrypts the values of secret keys (git
 * credentials, the git SSH key, Vault access, webhook secrets — the settings owner lists them)
 * with AES-256-GCM under a key the operator keeps apart from the data dir (`--seal-key-file`).
 * Every other value passes through unchanged, so reads of tasks, logs and state cost nothing.
 *
 * Each sealed value carries its own random 96-bit IV and is bound to its storage key (the key is
 * the GCM additional data), so a sealed value moved to another key does not open. A check value
 * (a sealed constant at `seal_check`) lets the service refuse a wrong key at start, by name,
 * instead of failing on the first secret it reads.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';
import { walkKeys } from './copy.js';
import type { PutOptions, Store, StoredEntry } from './store.js';

/** The store key of the check value (never listed, never copied). */
export const SEAL_CHECK_KEY = 'seal_check';

const CHECK_TEXT = 'flant-gitops seal check v1';
const ALG = 'aes-256-gcm';

/** How a sealed value is stored. */
export interface SealedValue {
  readonly $sealed: typeof ALG;
  /** base64 of the 12-byte IV, the 16-byte tag and the ciphertext of the value's JSON. */
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/** True for a stored value in the sealed shape. */
export function isSealedValue(v: unknown): v is SealedValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { $sealed?: unknown }).$sealed === ALG &&
    typeof (v as { data?: unknown }).data === 'string'
  );
}

/** Encrypt `value` for storage at `key`. */
export function sealValue(sealKey: Buffer, key: string, value: unknown): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALG, sealKey, iv);
  cipher.setAAD(Buffer.from(key, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return {
    $sealed: ALG,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/** Decrypt a value sealed for `key`; throws STORAGE_FAILED (next: user) when it does not open. */
export function unsealValue(sealKey: Buffer, key: string, sealed: SealedValue): unknown {
  try {
    const decipher = createDecipheriv(ALG, sealKey, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(key, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    const text = Buffer.concat([
      decipher.update(Buffer.from(sealed.data, 'base64')),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError(
      'STORAGE_FAILED',
      `the sealed value at ${key} does not open with the seal key (wrong key, or the value was altered)`,
      { cause: e, details: { key }, next: 'user' },
    );
  }
}

/** Options of the decorator. */
export interface SealedStoreOptions {
  /** The 32-byte key; undefined: nothing is sealed (and a sealed value read is an error). */
  readonly sealKey: Buffer | undefined;
  /** True for the keys whose values are secrets. */
  readonly isSecret: (key: string) => boolean;
}

/**
 * Wrap `inner`: secret keys are sealed on write and opened on read; a sealed value read without
 * a key fails naming the fix. `seal_check` is hidden from list (it is not data).
 */
export function sealedStore(inner: Store, opts: SealedStoreOptions): Store {
  const { sealKey, isSecret } = opts;
  const open = (key: string, value: unknown): unknown => {
    if (!isSealedValue(value)) return value;
    if (sealKey === undefined) {
      throw new AppError(
        'STORAGE_FAILED',
        `the value at ${key} is sealed; start with the seal key (--seal-key-file)`,
        { details: { key }, next: 'user' },
      );
    }
    return unsealValue(sealKey, key, value);
  };
  return {
    async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
      const e = await inner.get(key);
      return e === undefined ? undefined : { value: open(key, e.value) as T, version: e.version };
    },
    put(key: string, value: unknown, putOpts?: PutOptions): Promise<number> {
      const stored =
        sealKey !== undefined && isSecret(key) ? sealValue(sealKey, key, value) : value;
      return inner.put(key, stored, putOpts);
    },
    async list(prefix: string): Promise<string[]> {
      const names = await inner.list(prefix);
      return prefix === '' ? names.filter((n) => n !== SEAL_CHECK_KEY) : names;
    },
    delete: (key) => inner.delete(key),
  };
}

/** What `prepareSeal` found and did. */
export interface SealReport {
  /** Secret values found in clear and sealed now (written before the key was set). */
  readonly sealed: number;
  /** True when this start wrote the check value (first start with this key). */
  readonly checkWritten: boolean;
}

/**
 * At start: with a key, check it against the stored check value (refuse a wrong one, naming the
 * problem), write the check value when there is none, and seal every secret still stored in
 * clear. Without a key, refuse a store that holds a check value (its secrets would not open).
 */
export async function prepareSeal(
  raw: Store,
  sealKey: Buffer | undefined,
  isSecret: (key: string) => boolean,
): Promise<SealReport> {
  const check = await raw.get(SEAL_CHECK_KEY);
  if (sealKey === undefined) {
    if (check !== undefined) {
      throw new AppError(
        'STORAGE_FAILED',
        'the store is sealed (it holds a seal check value) but no seal key was given; start with --seal-key-file / FLANT_GITOPS_SEAL_KEY_FILE',
        { next: 'user' },
      );
    }
    return { sealed: 0, checkWritten: false };
  }
  let checkWritten = false;
  if (check === undefined) {
    await raw.put(SEAL_CHECK_KEY, sealValue(sealKey, SEAL_CHECK_KEY, CHECK_TEXT));
    checkWritten = true;
  } else {
    let ok = false;
    try {
      ok =
        isSealedValue(check.value) &&
        unsealValue(sealKey, SEAL_CHECK_KEY, check.value) === CHECK_TEXT;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new AppError(
        'STORAGE_FAILED',
        'the seal key does not match the one this store was sealed with (its seal check value does not open); give the right --seal-key-file',
        { next: 'user' },
      );
    }
  }
  let sealed = 0;
  for await (const key of walkKeys(raw)) {
    if (key === SEAL_CHECK_KEY || !isSecret(key)) continue;
    const e = await raw.get(key);
    if (e === undefined || isSealedValue(e.value)) continue;
    await raw.put(key, sealValue(sealKey, key, e.value), { cas: e.version });
    sealed++;
  }
  return { sealed, checkWritten };
}
