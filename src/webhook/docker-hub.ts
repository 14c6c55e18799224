/**
 * Docker Hub repository names, normalised so that a mount's pinned `docker_image`
 * (`[docker.io/]owner/name[:tag]@sha256:…`) can be compared with a Docker Hub payload's
 * `repository.repo_name` (`owner/name`, or `name` for official images). The image is parsed by the
 * shared grammar (src/config/rules/image-ref.ts), so the matcher accepts exactly what the API and
 * the runner accept.
 */
import { parseImageReference, splitImageName } from '../config/rules/image-ref.js';

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * A payload's `repo_name` as `owner/name` (`library/nginx` for `nginx`), lower-cased; undefined
 * when it names another registry. Payload names are lower case on Docker Hub, so the first part
 * is a host only when it has a "." or ":" or is `localhost`.
 */
export function normalizeHubRepository(name: string): string | undefined {
  let rest = name.trim().toLowerCase();
  if (rest === '') return undefined;
  const first = rest.split('/')[0] ?? '';
  const hasHost =
    rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost) {
    if (!HUB_HOSTS.has(first)) return undefined;
    rest = rest.slice(first.length + 1);
  }
  return rest.includes('/') ? rest : `library/${rest}`;
}

/**
 * What the matcher makes of a configured image: refused by the grammar (`valid` false: it can
 * match nothing), or accepted, with the Docker Hub repository it names (undefined for a local
 * image id or another registry, which no Docker Hub push concerns).
 */
export type HubImage =
  | { readonly valid: false; readonly rule: string }
  | { readonly valid: true; readonly repository: string | undefined };

/** Parse `image` with the shared grammar and name its Docker Hub repository, if any. */
export function hubImage(image: string): HubImage {
  const r = parseImageReference(image);
  if (!r.ok) return { valid: false, rule: r.rule };
  if (r.ref.kind === 'id') return { valid: true, repository: undefined };
  const { domain, path } = splitImageName(r.ref.repository);
  if (domain !== undefined && !HUB_HOSTS.has(domain.toLowerCase())) {
    return { valid: true, repository: undefined };
  }
  return { valid: true, repository: path.includes('/') ? path : `library/${path}` };
}

/** The Docker Hub repository of a configured image (digest and tag removed), if it names one. */
export function hubRepositoryOfImage(image: string): string | undefined {
  const h = hubImage(image);
  return h.valid ? h.repository : undefined;
}
