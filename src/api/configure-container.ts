/**
 * `configure/container` — how far the command container is locked down. Every run drops all
 * capabilities and sets no-new-privileges; the defaults here add a read-only image filesystem,
 * the service's own uid, and memory and pids limits. Each field loosens one of them for
 * commands that need it. The fields and defaults are the `ContainerSettings` schema's.
 */
import { parseFields } from '../config/field-errors.js';
import { fieldSpecs } from '../config/fields.js';
import { ContainerSettings } from '../config/settings-schemas.js';
import { settingsOf } from './settings.js';
import type { PathDescriptor } from './types.js';

/** The `configure/container` path. */
export const configureContainerPath: PathDescriptor = {
  pattern: 'configure/container',
  synopsis: 'Command container lockdown: user, capabilities, read-only filesystem, limits.',
  description:
    'Write replaces the settings (absent fields take their locked-down defaults); read returns ' +
    'them, with defaults when never written; delete restores the defaults. All capabilities are ' +
    'always dropped first and no-new-privileges is always set; cap_add gives back exactly the ' +
    'capabilities listed.',
  fields: fieldSpecs(ContainerSettings),
  operations: {
    async read(req, ctx) {
      return { data: { ...(await settingsOf(req, ctx).effectiveContainerSettings()) } };
    },
    async update(req, ctx) {
      await settingsOf(req, ctx).containerSettings.put(parseFields(ContainerSettings, req.data));
      return undefined;
    },
    async delete(req, ctx) {
      await settingsOf(req, ctx).containerSettings.delete();
      return undefined;
    },
  },
};
