/**
 * The one image-reference grammar, as a table of good and bad references. Every row is checked
 * against the three places that read `docker_image`: the API (a `configure` write), the runner
 * (`parseImageRef`) and the Docker Hub matcher (`hubImage`); all three must give the row's verdict.
 */
import { describe, expect, it } from 'vitest';
import { configurePath } from '../../src/api/configure.js';
import type { PathContext } from '../../src/api/types.js';
import { parseImageReference } from '../../src/config/rules/image-ref.js';
import { isAppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { parseImageRef } from '../../src/runner/image-ref.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { hubImage } from '../../src/webhook/docker-hub.js';

const HEX = '0123456789abcdef'.repeat(4);
const D = `sha256:${HEX}`;

/** [what, reference, accepted, Docker Hub repository when accepted]. */
type Row = [string, string, boolean, string | undefined];

const TABLE: ReadonlyArray<readonly [string, string, boolean, string?]> = [
  ['a local image id', D, true],
  ['an official image by digest', `busybox@${D}`, true, 'library/busybox'],
  ['an official image with a tag', `busybox:1.36@${D}`, true, 'library/busybox'],
  ['an owner/name on Docker Hub', `acme/app@${D}`, true, 'acme/app'],
  ['docker.io spelled out', `docker.io/acme/app:1.0@${D}`, true, 'acme/app'],
  ['an upper-case Docker Hub host', `Docker.IO/acme/app@${D}`, true, 'acme/app'],
  ['an upper-case registry host', `Registry.example.com/app@${D}`, true],
  ['an upper-case first part (a host, as Docker reads it)', `Registry/app@${D}`, true],
  ['a registry with a port', `registry.example.org:443/app@${D}`, true],
  ['an IP registry with port, path and tag', `127.0.0.1:5000/team/app:v1@${D}`, true],
  ['localhost with a port', `localhost:5000/app@${D}`, true],
  ['separators in the path', `ghcr.io/a-b/c__d/e.f_g@${D}`, true],
  ['a tag with dots and dashes', `app:v1.2-rc_3@${D}`, true, 'library/app'],
  ['a bare name', 'busybox', false],
  ['a tag only', 'busybox:latest', false],
  ['a registry port without digest', '127.0.0.1:5000/app', false],
  ['a digest of 63 hex', `busybox@sha256:${HEX.slice(1)}`, false],
  ['a digest of 65 hex', `busybox@sha256:${HEX}0`, false],
  ['a local id of 63 hex', `sha256:${HEX.slice(1)}`, false],
  ['an upper-case digest', `busybox@sha256:${HEX.toUpperCase()}`, false],
  ['another algorithm', `busybox@sha512:${HEX}`, false],
  ['an upper-case repository path', `BusyBox@${D}`, false],
  ['an upper-case path below a registry', `registry.example.com/App@${D}`, false],
  ['an empty repository', `@${D}`, false],
  ['an empty tag', `app:@${D}`, false],
  ['a tag starting with a dot', `app:.x@${D}`, false],
  ['a non-numeric port', `registry.example.com:http/app@${D}`, false],
  ['a host label ending in a dash', `registry-.example.com/app@${D}`, false],
  ['a double slash', `acme//app@${D}`, false],
  ['a trailing separator', `acme/app-@${D}`, false],
  ['a space', `acme/ app@${D}`, false],
  ['a name over 255 characters', `${'a'.repeat(256)}@${D}`, false],
];

const GOOD_CONFIGURE = {
  git_repo_url: 'https://git.example.test/repo.git',
  commands: 'true',
};

/** The API's verdict: does a `configure` write with this image succeed? */
async function apiAccepts(image: string): Promise<boolean> {
  const ctx = {
    store: createMemoryStore(),
    services: {},
    logger: silentLogger(),
    now: () => new Date(),
  } as unknown as PathContext;
  const update = configurePath.operations.update;
  if (!update) throw new Error('configure has no update');
  try {
    await update(
      {
        operation: 'update',
        mount: 'm',
        path: 'configure',
        captures: {},
        data: { ...GOOD_CONFIGURE, docker_image: image },
      },
      ctx,
    );
    return true;
  } catch (e) {
    if (!isAppError(e, 'INVALID_INPUT')) throw e;
    expect(e.reason).toMatch(/^docker_image: must be pinned/);
    return false;
  }
}

/** The runner's verdict. */
function runnerAccepts(image: string): boolean {
  try {
    parseImageRef(image);
    return true;
  } catch (e) {
    if (!isAppError(e, 'INVALID_INPUT')) throw e;
    return false;
  }
}

describe('image references: one grammar, one verdict everywhere', () => {
  it.each<Row>(TABLE.map((r): Row => [r[0], r[1], r[2], r[3]]))(
    '%s (%s) → accepted %s',
    async (_what, image, accepted, hubRepository) => {
      expect(parseImageReference(image).ok).toBe(accepted);
      expect(await apiAccepts(image), 'API').toBe(accepted);
      expect(runnerAccepts(image), 'runner').toBe(accepted);
      const hub = hubImage(image);
      expect(hub.valid, 'Docker Hub matcher').toBe(accepted);
      if (hub.valid) expect(hub.repository).toBe(hubRepository);
    },
  );

  it('says which part of a refused reference is wrong', () => {
    const rule = (image: string) => {
      const r = parseImageReference(image);
      return r.ok ? '' : r.rule;
    };
    expect(rule('busybox:latest')).toMatch(/no digest/);
    expect(rule(`busybox@sha256:${HEX.slice(1)}`)).toMatch(/64 lower-case hex/);
    expect(rule(`registry-.example.com/app@${D}`)).toMatch(/registry host/);
    expect(rule(`BusyBox@${D}`)).toMatch(/repository path/);
  });
});
