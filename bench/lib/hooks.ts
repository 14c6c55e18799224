/**
 * Signed webhook deliveries as the benchmarks send them: GitHub's `X-Hub-Signature-256` (and the
 * `generic` source's `X-Signature`, the same HMAC), and one POST that must be answered with the
 * expected status.
 */
import { createHmac } from 'node:crypto';

/** `sha256=<hex HMAC-SHA256 of body>`, as GitHub and our `generic` source sign. */
export function hmacSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with a `push` event. */
export function githubPushHeaders(
  secret: string,
  body: string,
  deliveryId: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': hmacSignature(secret, body),
  };
}

/** POST one delivery; throws unless the receiver answers 202 with `{"status": want}`. */
export async function postDelivery(
  url: string,
  headers: Record<string, string>,
  body: string,
  want: 'accepted' | 'duplicate' = 'accepted',
): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  if (res.status !== 202 || !text.includes(`"${want}"`)) {
    throw new Error(`webhook answered ${res.status} ${text}, expected 202 ${want}`);
  }
}
