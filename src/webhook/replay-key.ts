/**
 * The de-duplication key of what a delivery's signature covers. A delivery id such as
 * `X-GitHub-Delivery` is not signed: a captured delivery resent with a fresh id still verifies,
 * so keying replays on the id alone lets every resend through. The signature (and what it signs:
 * the body, and for GitLab's signed scheme also the id and timestamp) cannot be changed without
 * the secret, so a replay of a captured delivery always carries the same body and the same
 * signature header — that pair is what this key is made of.
 */
import { createHash } from 'node:crypto';
import { headerValue } from './sources.js';
import type { WebhookHeaders, WebhookSource } from './types.js';

/** The headers that authenticate a delivery of each sender (lower-case; none for Docker Hub). */
export const SIGNATURE_HEADERS: Readonly<Record<WebhookSource, readonly string[]>> = {
  github: ['x-hub-signature-256'],
  gitea: ['x-gitea-signature', 'x-forgejo-signature', 'x-gogs-signature'],
  gitlab: ['webhook-signature', 'x-gitlab-token'],
  bitbucket: ['x-hub-signature'],
  generic: ['x-signature'],
  cloudevents: ['x-signature'],
  dockerhub: [],
};

/**
 * Hex SHA-256 over the sender, its signature headers and then the body. Only a digest is kept in
 * memory: a GitLab token (the shared secret itself) never sits in the deduper as text. One hash
 * pass: the body comes last and header values cannot contain NUL, so the framing is unambiguous
 * without hashing the body separately first (the key is never stored or compared across runs).
 */
export function replayKey(source: WebhookSource, headers: WebhookHeaders, body: Buffer): string {
  const h = createHash('sha256').update(source).update('\0');
  for (const name of SIGNATURE_HEADERS[source]) {
    h.update(name)
      .update('=')
      .update(headerValue(headers, name) ?? '')
      .update('\0');
  }
  return h.update(body).digest('hex');
}
