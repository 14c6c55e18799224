/**
 * Docker Hub repository names, normalised so that a mount's pinned `docker_image`
 * (`[docker.io/]owner/name[:tag]@sha256:…`) can be compared with a Docker Hub payload's
 * `repository.repo_name` (`owner/name`, or `name` for official images).
 */

const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `library/nginx` for `nginx`; lower-cased; undefined when not a Docker Hub repository. */
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
 * The Docker Hub repository of an image reference: digest and tag removed. A bare image id
 * (`sha256:<hex>`) names no repository, so it never matches a Docker Hub push.
 */
export function hubRepositoryOfImage(image: string): string | undefined {
  if (/^sha256:[0-9a-f]{64}$/i.test(image.trim())) return undefined;
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at !== -1) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  return normalizeHubRepository(ref);
}
