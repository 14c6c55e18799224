/**
 * Image references in the runner: the grammar is the shared rule in src/config/rules/image-ref.ts
 * (the API and the Docker Hub matcher use the same one); here a refused reference becomes the
 * runner's INVALID_INPUT, and a local image's RepoDigests are compared with a pinned reference.
 */
import { parseImageReference, type ImageRef } from '../config/rules/image-ref.js';
import { AppError } from '../errors.js';

export type { ImageRef } from '../config/rules/image-ref.js';

/**
 * Parse `image` or throw AppError INVALID_INPUT saying which rule it breaks. A mutable reference
 * (a bare tag like `alpine:3`) is refused: what runs must be exactly what was configured.
 */
export function parseImageRef(image: string): ImageRef {
  const r = parseImageReference(image);
  if (r.ok) return r.ref;
  throw new AppError('INVALID_INPUT', `image "${image}" ${r.rule}`, {
    details: { field: 'docker_image' },
  });
}

/**
 * True when a local image's RepoDigests (e.g. `busybox@sha256:…`, `127.0.0.1:5000/x@sha256:…`)
 * pin the same content as `ref`. Docker shortens Docker Hub names (`docker.io/library/busybox` →
 * `busybox`), so the repository is compared after the same normalisation.
 */
export function repoDigestsMatch(
  ref: Extract<ImageRef, { kind: 'digest' }>,
  repoDigests: readonly string[],
): boolean {
  const want = `${familiarName(ref.repository)}@${ref.digest}`;
  return repoDigests.some((d) => {
    const at = d.indexOf('@');
    return at > 0 && `${familiarName(d.slice(0, at))}${d.slice(at)}` === want;
  });
}

function familiarName(repository: string): string {
  let r = repository;
  for (const prefix of ['docker.io/', 'index.docker.io/', 'registry-1.docker.io/']) {
    if (r.startsWith(prefix)) r = r.slice(prefix.length);
  }
  return r.startsWith('library/') && r.split('/').length === 2 ? r.slice('library/'.length) : r;
}
