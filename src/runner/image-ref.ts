/**
 * Image references the runner accepts: only immutable ones. Parsing is pure so that the rules are
 * unit-tested and the adapter decides "present locally?" and "what to pull?" from one place.
 */
import { AppError } from '../errors.js';

/** A parsed, immutable image reference. */
export type ImageRef =
  /** A local image id (`sha256:<64 hex>`): can only be found locally, never pulled. */
  | { readonly kind: 'id'; readonly id: string }
  /**
   * A pinned reference `repo[:tag]@sha256:<64 hex>`: found locally by digest, pulled by digest.
   * `repository` has the tag removed (the digest alone decides what is pulled).
   */
  | {
      readonly kind: 'digest';
      readonly repository: string;
      readonly tag: string | undefined;
      readonly digest: string;
    };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// Docker's reference grammar, simplified: optional host[:port]/, lower-case path components.
const REPOSITORY =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Parse `image` or throw AppError INVALID_INPUT saying which rule it breaks. A mutable reference
 * (a bare tag like `alpine:3`) is refused: what runs must be exactly what was configured.
 */
export function parseImageRef(image: string): ImageRef {
  if (DIGEST.test(image)) return { kind: 'id', id: image };
  const at = image.indexOf('@');
  if (at < 0) {
    throw new AppError(
      'INVALID_INPUT',
      `image "${image}" is not pinned: use repo[:tag]@sha256:<64 hex> or a local image id sha256:<64 hex>`,
      { details: { field: 'docker_image' } },
    );
  }
  const name = image.slice(0, at);
  const digest = image.slice(at + 1);
  if (!DIGEST.test(digest)) {
    throw new AppError(
      'INVALID_INPUT',
      `image "${image}": the digest must be sha256:<64 lower-case hex>`,
      { details: { field: 'docker_image' } },
    );
  }
  // A ':' after the last '/' separates a tag; one before it belongs to a registry port.
  const lastColon = name.lastIndexOf(':');
  const hasTag = lastColon > name.lastIndexOf('/');
  const repository = hasTag ? name.slice(0, lastColon) : name;
  const tag = hasTag ? name.slice(lastColon + 1) : undefined;
  if (!REPOSITORY.test(repository) || (tag !== undefined && !TAG.test(tag))) {
    throw new AppError('INVALID_INPUT', `image "${image}": not a valid repository[:tag] name`, {
      details: { field: 'docker_image' },
    });
  }
  return { kind: 'digest', repository, tag, digest };
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
