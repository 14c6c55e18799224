/**
 * The one grammar of the image references we run: only immutable ones. The API (`docker_image`),
 * the runner (what to look up and pull) and the Docker Hub matcher (which pushes concern a mount)
 * all parse with `parseImageReference`, so a reference is accepted by all three or by none.
 *
 * The grammar is Docker's (distribution/reference), restricted to pinned references:
 *
 *     reference  := "sha256:" hex64                      a local image id, never pulled
 *                 | name [":" tag] "@sha256:" hex64      pinned by digest
 *     name       := [domain "/"] path                    at most 255 characters
 *     domain     := label ("." label)* [":" port]        upper case allowed (host names are not
 *     label      := [A-Za-z0-9] ([A-Za-z0-9-]* [A-Za-z0-9])?            case-sensitive)
 *     path       := component ("/" component)*           lower case only
 *     component  := [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
 *     tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *     hex64      := 64 lower-case hex digits
 *
 * As in Docker, the first "/"-separated part of a name is the registry domain only when it
 * contains "." or ":", is `localhost`, or has an upper-case letter; otherwise it is part of the
 * path (`acme/app` is a Docker Hub repository).
 */

/** A parsed, immutable image reference. */
export type ImageRef =
  /** A local image id (`sha256:<64 hex>`): can only be found locally, never pulled. */
  | { readonly kind: 'id'; readonly id: string }
  /**
   * A pinned reference `name[:tag]@sha256:<64 hex>`. `repository` is the name as written, with
   * the tag removed (the digest alone decides what is pulled).
   */
  | {
      readonly kind: 'digest';
      readonly repository: string;
      readonly tag: string | undefined;
      readonly digest: string;
    };

/** Either the parsed reference or the rule the text breaks (a message for the operator). */
export type ImageRefParse =
  { readonly ok: true; readonly ref: ImageRef } | { readonly ok: false; readonly rule: string };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const NAME_MAX = 255;

const PINNED = 'must be pinned: REPO[:TAG]@sha256:<64 hex> or a local image id sha256:<64 hex>';

const bad = (detail: string): ImageRefParse => ({ ok: false, rule: `${PINNED} (${detail})` });

/**
 * A name split into its registry domain (undefined: Docker Hub) and path, by Docker's rule for
 * telling a domain from a first path component.
 */
export function splitImageName(name: string): {
  readonly domain: string | undefined;
  readonly path: string;
} {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: undefined, path: name };
  const first = name.slice(0, slash);
  const isDomain =
    first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first !== first.toLowerCase();
  return isDomain
    ? { domain: first, path: name.slice(slash + 1) }
    : { domain: undefined, path: name };
}

/** Parse `image` by the grammar above; never throws. */
export function parseImageReference(image: string): ImageRefParse {
  if (DIGEST.test(image)) return { ok: true, ref: { kind: 'id', id: image } };
  const at = image.indexOf('@');
  if (at < 0) return bad('no digest');
  const name = image.slice(0, at);
  const digest = image.slice(at + 1);
  if (!DIGEST.test(digest)) return bad('the digest must be sha256: and 64 lower-case hex digits');
  // A ':' after the last '/' separates a tag; one before it belongs to a registry port.
  const lastColon = name.lastIndexOf(':');
  const hasTag = lastColon > name.lastIndexOf('/');
  const repository = hasTag ? name.slice(0, lastColon) : name;
  const tag = hasTag ? name.slice(lastColon + 1) : undefined;
  if (repository === '' || repository.length > NAME_MAX) {
    return bad(`the name must have 1 to ${NAME_MAX} characters`);
  }
  if (tag !== undefined && !TAG.test(tag)) return bad(`"${tag}" is not a valid tag`);
  const { domain, path } = splitImageName(repository);
  if (domain !== undefined && !DOMAIN.test(domain)) {
    return bad(`"${domain}" is not a valid registry host[:port]`);
  }
  if (!PATH.test(path)) {
    return bad(
      `"${path}" is not a valid repository path (lower case, digits and . _ - separators)`,
    );
  }
  return { ok: true, ref: { kind: 'digest', repository, tag, digest } };
}

/** The rule `docker_image` must meet, as a message (undefined: met). */
export function imageRefRule(image: string): string | undefined {
  const r = parseImageReference(image);
  return r.ok ? undefined : r.rule;
}
