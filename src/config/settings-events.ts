/**
 * Change notices for a mount's settings. The settings owner (./mount-settings.ts) announces every
 * write it makes; whoever keeps something derived from settings (the webhook receiver's endpoint
 * index) subscribes instead of watching storage keys. One hub per service, built in
 * src/service.ts; writes made by another replica are not seen here (readers keep a maximum age).
 */
import type { SettingName } from './stored.js';

/** One setting of one mount was written or deleted. */
export interface SettingChange {
  readonly mount: string;
  readonly setting: SettingName;
  /** The item's name for the settings kept per name (vault requests, keys, webhooks). */
  readonly name?: string;
}

/** A listener; it must not throw (a throw is swallowed so the write that announced it stands). */
export type SettingsListener = (change: SettingChange) => void;

/** The hub. */
export interface SettingsEvents {
  /** Add a listener; returns the function that removes it. */
  subscribe(listener: SettingsListener): () => void;
  notify(change: SettingChange): void;
}

/** A hub with no listeners yet. */
export function createSettingsEvents(): SettingsEvents {
  const listeners = new Set<SettingsListener>();
  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notify(change) {
      for (const l of listeners) {
        try {
          l(change);
        } catch {
          // A listener's failure is its own; the setting is written either way.
        }
      }
    },
  };
}
