/**
 * Who this mount is, for the parts of a plugin process that outlive requests. OpenBao tells a
 * plugin its mount path only with each request, and not at all before Initialize, where the
 * background work starts; yet the runtime needs a name that is stable across reloads and
 * crashes (the start-up sweep finds the previous process's containers by it) and distinct between
 * two mounts sharing one data dir and one Docker engine. A random id kept in the mount's own
 * storage is all three: it moves with the mount and is gone when the mount is disabled.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dataLayout, loadOrCreateInstanceId, sweepWorkDirs } from '../config/data-layout.js';
import type { Store } from '../storage/store.js';

/** Storage key of the mount's id (at the root of the mount's storage, beside `configuration`). */
export const MOUNT_ID_KEY = 'plugin_mount';

const ID = /^[0-9a-f]{16}$/;

/** The mount's id, created on the first Initialize (storage is writable there, not in Setup). */
export async function loadOrCreateMountId(store: Store): Promise<string> {
  // Read as unknown and checked: whatever is stored there is used only if it is an id of ours.
  const stored: unknown = (await store.get(MOUNT_ID_KEY))?.value;
  const current =
    typeof stored === 'object' && stored !== null && 'id' in stored ? stored.id : undefined;
  if (typeof current === 'string' && ID.test(current)) return current;
  const id = randomBytes(8).toString('hex');
  await store.put(MOUNT_ID_KEY, { id });
  return id;
}

/** The mount's local work dirs below the plugin's data dir; they hold no secret. */
export interface MountWorkDirs {
  /** `<dataDir>/<mount id>` */
  readonly root: string;
  readonly mirrors: string;
  readonly runs: string;
  /** Short-lived files of git calls (SSH key copies, export indexes). */
  readonly tmp: string;
  /** Labels this mount's containers (kept in `root`, so a respawned process finds its own). */
  readonly instanceId: string;
}

/** Create (or find) the mount's work dirs; a missing dir is simply rebuilt. */
export async function prepareWorkDirs(dataDir: string, mountId: string): Promise<MountWorkDirs> {
  const root = join(dataDir, mountId);
  const layout = dataLayout(root);
  await mkdir(layout.mirrors, { recursive: true, mode: 0o700 });
  await mkdir(layout.runs, { recursive: true, mode: 0o700 });
  await mkdir(layout.tmp, { recursive: true, mode: 0o700 });
  // What a killed process of this mount left (run dirs, SSH key copies, half-made mirrors).
  await sweepWorkDirs(root);
  return {
    root,
    mirrors: layout.mirrors,
    runs: layout.runs,
    tmp: layout.tmp,
    instanceId: await loadOrCreateInstanceId(root),
  };
}
