/**
 * Settings for tests, written the way the service writes them: through the settings owner, so a
 * test cannot store a shape the readers would refuse.
 */
import { mountSettings, type MountSettings } from '../../src/config/mount-settings.js';
import type { SettingsEvents } from '../../src/config/settings-events.js';
import type { Configuration } from '../../src/config/settings-schemas.js';
import { mountScope } from '../../src/config/stored.js';
import { scopedStore, type Store } from '../../src/storage/store.js';

/** A valid configuration (N = 0, a pinned local image id) with `over` applied. */
export function validConfiguration(over: Partial<Configuration> = {}): Configuration {
  return {
    git_repo_url: 'https://git.example.test/repo.git',
    git_branch_name: 'main',
    git_poll_period: 300,
    required_number_of_verified_signatures_on_commit: 0,
    initial_last_successful_commit: '',
    docker_image: `sha256:${'a'.repeat(64)}`,
    commands: ['echo hello', 'make deploy'],
    ...over,
  };
}

/** The settings of `mount` in a service-level (root) store. */
export function settingsIn(root: Store, mount: string, events?: SettingsEvents): MountSettings {
  return mountSettings(scopedStore(root, mountScope(mount)), {
    mount,
    ...(events === undefined ? {} : { events }),
  });
}
