/**
 * Leases, poll-request hand-off and store copy over a real OpenBao KV v2 mount: two replicas
 * (separate clients, one injected clock) contend for a mount's lease, a request recorded by the
 * non-holder reaches the holder, and a file store copies into KV and back unchanged.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { copyStore, walkKeys } from '../../src/storage/copy.js';
import { openFileStore } from '../../src/storage/file-store.js';
import { createLease, type LeaseRecord } from '../../src/storage/lease.js';
import { requestPoll, takePollRequest } from '../../src/storage/poll-requests.js';
import type { Store } from '../../src/storage/store.js';
import { openVaultKvStore } from '../../src/storage/vault-kv-store.js';
import { createKvClient } from '../../src/vault/kv-client.js';
import { bao } from '../helpers/openbao.js';

const target = inject('openbao');
const id = randomBytes(4).toString('hex');
const mount = `fg-kv-${id}`;
let dir: string;

/** A replica's own connection to the shared KV mount. */
function replicaStore(prefix: string): Store {
  const client = createKvClient({
    endpoint: { addr: target.addr, caPem: '', serverName: '' },
    mount,
    auth: { kind: 'token', token: target.token },
  });
  return openVaultKvStore({ client, prefix });
}

beforeAll(async () => {
  const r = await bao(target, ['secrets', 'enable', `-path=${mount}`, 'kv-v2']);
  if (r.code !== 0) throw new Error(`enabling ${mount} failed: ${r.stderr}`);
  dir = await mkdtemp(join(tmpdir(), 'fg-kv-lease-'));
});
afterAll(async () => {
  await bao(target, ['secrets', 'disable', mount]);
  await rm(dir, { recursive: true, force: true });
});

describe('lease over Vault KV v2', () => {
  it('two contenders: one holds, the other takes over only after expiry', async () => {
    let t = Date.now();
    const now = () => t;
    const sa = replicaStore('lease-a');
    const a = createLease({ store: sa, mount: 'm1', holder: 'a', ttlMs: 3_000, now });
    const b = createLease({
      store: replicaStore('lease-a'),
      mount: 'm1',
      holder: 'b',
      ttlMs: 3_000,
      now,
    });

    const first = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect(first.filter(Boolean)).toHaveLength(1);
    const [holder, other] = first[0] ? [a, b] : [b, a];
    expect(holder.holds() && !other.holds()).toBe(true);

    for (let i = 0; i < 3; i++) {
      t += holder.renewEveryMs;
      const ticks = await Promise.all([holder.tick(), other.tick()]);
      expect(ticks.map((x) => x.holds)).toEqual([true, false]);
    }
    // The holder stops renewing; after expiry the other one takes over.
    t += 3_000;
    expect(holder.holds()).toBe(false);
    expect((await other.tick()).holds).toBe(true);
    expect((await holder.tick()).holds).toBe(false);
    const rec = await sa.get<LeaseRecord>('lease/m1');
    expect(rec?.value.holder).toBe(first[0] ? 'b' : 'a');
  });

  it('concurrent acquisition by five replicas yields exactly one holder', async () => {
    const now = () => 1_000;
    const leases = Array.from({ length: 5 }, (_, i) =>
      createLease({ store: replicaStore('lease-b'), mount: 'm1', holder: `r${i}`, now }),
    );
    const won = await Promise.all(leases.map((l) => l.tryAcquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(leases.filter((l) => l.holds())).toHaveLength(1);
  });

  it('a poll request recorded by a non-holder is taken once by the holder', async () => {
    const holderStore = replicaStore('polls');
    const otherStore = replicaStore('polls');
    expect(await takePollRequest(holderStore, 'm1')).toBe(false);
    await Promise.all([
      requestPoll(otherStore, 'm1', Date.now()),
      requestPoll(otherStore, 'm1', Date.now()),
    ]);
    expect(await takePollRequest(holderStore, 'm1')).toBe(true);
    expect(await takePollRequest(holderStore, 'm1')).toBe(false);
  });
});

describe('copy between files and Vault KV v2', () => {
  it('files → KV → files keeps every key and value; a rerun writes nothing', async () => {
    const files = await openFileStore(join(dir, 'src'));
    const content: Record<string, unknown> = {
      'mounts/m1/configuration': { git_branch_name: 'main', git_poll_period: 300 },
      'mounts/m1/vault_request/db': { name: 'db', method: 'GET' },
      'mounts/m1/task/a b%c': 'odd key',
      'lease/m1': { holder: 'x', expires: 0 },
    };
    for (const [k, v] of Object.entries(content)) await files.put(k, v);
    const kv = replicaStore('copy');
    expect(await copyStore(files, kv)).toEqual({ keys: 4, written: 4, unchanged: 0 });
    expect(await copyStore(files, kv)).toEqual({ keys: 4, written: 0, unchanged: 4 });
    const back = await openFileStore(join(dir, 'back'));
    await copyStore(kv, back);
    const dumped: Record<string, unknown> = {};
    for await (const k of walkKeys(back)) dumped[k] = (await back.get(k))?.value;
    expect(dumped).toEqual(content);
  });
});
