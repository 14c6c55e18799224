/**
 * Inside OpenBao a plugin process serves one mount, and its storage is already that mount's own
 * barrier view, so the API keeps keys at its root (a `bao secrets move` keeps working). Code
 * shared with the standalone service (the mount runtime, the webhook endpoint directory) expects
 * the service's whole store and scopes it with `mounts/<mount>/`; this view gives it that shape
 * over the mount's storage, and refuses keys of any other mount.
 */
import { mountScope } from '../config/stored.js';
import { AppError } from '../errors.js';
import type { Store } from '../storage/store.js';

/** A "whole store" view in which only `mounts/<mount>/…` exists, mapped onto `mountStore`. */
export function wholeStoreView(mountStore: Store, mount: () => string): Store {
  const inner = (key: string): string => {
    const scope = mountScope(mount());
    if (!key.startsWith(scope)) {
      throw new AppError('INTERNAL', `key ${JSON.stringify(key)} is outside this plugin's mount`);
    }
    return key.slice(scope.length);
  };
  return {
    get: (key) => mountStore.get(inner(key)),
    put: (key, value, opts) => mountStore.put(inner(key), value, opts),
    delete: (key) => mountStore.delete(inner(key)),
    async list(prefix) {
      const scope = mountScope(mount());
      if (prefix === '') return ['mounts/'];
      if (prefix === 'mounts/') return [scope.slice('mounts/'.length)];
      if (!prefix.startsWith(scope)) return [];
      return mountStore.list(prefix.slice(scope.length));
    },
  };
}
