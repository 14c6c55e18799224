/**
 * The settings owner for one request: the paths read and write a mount's settings through it
 * (never through raw keys), over the storage the transport scoped to the mount, announcing writes
 * where the transport's services say.
 */
import { mountSettings, type MountSettings } from '../config/mount-settings.js';
import type { PathContext, PathRequest } from './types.js';

/** The settings of the request's mount. */
export function settingsOf(req: PathRequest, ctx: PathContext): MountSettings {
  const events = ctx.services.settingsEvents;
  return mountSettings(ctx.store, {
    mount: req.mount,
    logger: ctx.logger,
    ...(events === undefined ? {} : { events }),
  });
}
