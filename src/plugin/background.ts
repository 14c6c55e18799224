/**
 * The seam for work that outlives a request inside the plugin process: the scheduler, the
 * pipeline, the runner and the webhook listener. OpenBao starts plugin processes for many
 * reasons (registration probes run Setup and are killed at once), so such work may start only
 * in Initialize — never in Setup, never at process start — and must stop in Cleanup. The backend
 * calls these hooks at exactly those points; the plugin core itself starts nothing.
 */
import type { SettingsEvents } from '../config/settings-events.js';
import type { Logger } from '../logging.js';
import type { PipelineControl } from '../pipeline/control.js';
import type { Store } from '../storage/store.js';

/** What background work gets when the mount is initialised. */
export interface BackgroundContext {
  /**
   * The mount's storage (OpenBao's barrier view): keys sit at its root (`configuration`,
   * `vault_request/<name>`, …). For code that expects the service's whole store with
   * `mounts/<mount>/` prefixes, wrap it with `wholeStoreView` (mount-store.ts).
   */
  readonly store: Store;
  /** The mount's name, as OpenBao reported it in Setup's config or the first request. */
  readonly mount: () => string;
  readonly logger: Logger;
  /** A local work dir for git mirrors and run dirs (no secrets; rebuilt when missing). */
  readonly dataDir: string;
  /** Where the API paths announce settings writes (the webhook index listens). */
  readonly settingsEvents: SettingsEvents;
  /** The plugin's Setup config (plugin_name, plugin_version, mount options). */
  readonly config: Readonly<Record<string, string>>;
}

/** Work started in Initialize and stopped in Cleanup. */
export interface BackgroundWork {
  /** Start (Initialize). Must return promptly; OpenBao waits for Initialize. */
  start(): Promise<void>;
  /** The rollback tick, about once a minute: start what is due and return at once. */
  periodic?(): void;
  /** The pipeline the API paths use for poll, next-poll times and task cancel. */
  readonly pipeline?: PipelineControl | undefined;
  /** Stop everything (Cleanup: unmount, reload, seal). Bounded: the host waits, then kills. */
  stop(): Promise<void>;
}

/** Builds the background work of a mount; called once per process, in Initialize. */
export type BackgroundFactory = (ctx: BackgroundContext) => BackgroundWork;
