/**
 * The trusted keys and the required number of a mount, read through our own API exactly as an
 * operator's `bao read` would (token from VAULT_TOKEN or a file), so `signatures show` judges a
 * commit with the keys the gate will use, not with whatever the approver's keyring holds.
 */
import { AppError } from '../errors.js';
import type { TrustedKey } from '../pgp/types.js';
import type { TrustedSshKey } from '../sshsig/types.js';

/** Where the API is and who asks. */
export interface ApiTarget {
  readonly addr: string;
  readonly token: string;
  readonly mount: string;
}

async function get(t: ApiTarget, path: string): Promise<Record<string, unknown> | undefined> {
  const url = `${t.addr.replace(/\/+$/, '')}/v1/${t.mount}/${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { 'X-Vault-Token': t.token } });
  } catch (e) {
    throw new AppError('VAULT_UNREACHABLE', `cannot reach ${t.addr}: ${(e as Error).message}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { errors?: unknown };
    const errors = Array.isArray(body.errors) ? body.errors.join('; ') : '';
    throw new AppError('VAULT_REQUEST_FAILED', `GET ${path}: ${res.status} ${errors}`.trim());
  }
  const body = (await res.json()) as { data?: Record<string, unknown> };
  return body.data ?? {};
}

/** Every trusted key of the mount (name and armored key). */
export async function fetchTrustedKeys(t: ApiTarget): Promise<TrustedKey[]> {
  const listed = await get(t, 'configure/trusted_pgp_public_key?list=true');
  const names = Array.isArray(listed?.keys) ? listed.keys.map(String) : [];
  const keys: TrustedKey[] = [];
  for (const name of names) {
    const item = await get(t, `configure/trusted_pgp_public_key/${encodeURIComponent(name)}`);
    if (typeof item?.public_key === 'string') keys.push({ name, publicKey: item.public_key });
  }
  return keys;
}

/** Every trusted SSH key of the mount (name and authorized_keys line). */
export async function fetchTrustedSshKeys(t: ApiTarget): Promise<TrustedSshKey[]> {
  const listed = await get(t, 'configure/trusted_ssh_public_key?list=true');
  const names = Array.isArray(listed?.keys) ? listed.keys.map(String) : [];
  const keys: TrustedSshKey[] = [];
  for (const name of names) {
    const item = await get(t, `configure/trusted_ssh_public_key/${encodeURIComponent(name)}`);
    if (typeof item?.public_key === 'string') keys.push({ name, publicKey: item.public_key });
  }
  return keys;
}

/** The mount's required number of signatures (0 when the mount is not configured). */
export async function fetchRequired(t: ApiTarget): Promise<number> {
  const cfg = await get(t, 'configure');
  const n = cfg?.required_number_of_verified_signatures_on_commit;
  return typeof n === 'number' ? n : 0;
}
