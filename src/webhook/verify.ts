/**
 * Authentication of a delivery as a pure function of (source, headers, raw bytes, secret, now):
 * no I/O, no parsing of the payload. Every comparison is constant-time over equal-length buffers
 * (`crypto.timingSafeEqual`); a length mismatch is itself a mismatch and reveals nothing about
 * the secret (lengths of digests are public).
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { headerValue } from './sources.js';
import type { VerifyResult, WebhookHeaders, WebhookSource } from './types.js';

/** Tunables of verification. */
export interface VerifyOptions {
  /** GitLab signed scheme: how far `webhook-timestamp` may be from `now` (seconds). */
  readonly timestampToleranceSec?: number;
}

/** Default tolerance of the GitLab (Standard Webhooks) timestamp: 5 minutes. */
export const DEFAULT_TIMESTAMP_TOLERANCE_SEC = 300;

const OK: VerifyResult = { ok: true };
const missing = (reason: string): VerifyResult => ({ ok: false, kind: 'missing', reason });
const mismatch = (reason: string): VerifyResult => ({ ok: false, kind: 'mismatch', reason });

/**
 * The HMAC key for `secret`'s bytes: `key` when the caller keeps one made of exactly these bytes,
 * else a new one. Node (24) recognises a key given as a Buffer only after two brand checks that
 * each throw and catch an exception; a KeyObject passes the first one. Made per call, it costs
 * about a third of what `createHmac(algo, buffer)` spends on the key; kept by the endpoint index
 * (`ResolvedEndpoint.hmacKey`), nothing (see bench 5).
 */
function hmacKey(secret: Buffer, key?: KeyObject): KeyObject {
  return key ?? createSecretKey(secret);
}

/** The HMAC key of an endpoint's secret, made once when the endpoint index is built. */
export function webhookHmacKey(secret: Buffer): KeyObject {
  return createSecretKey(secret);
}

/** Constant-time equality of a computed digest and a hex string sent by the peer. */
function hexMatches(expected: Buffer, providedHex: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(providedHex) || providedHex.length !== expected.length * 2) {
    return false;
  }
  return timingSafeEqual(expected, Buffer.from(providedHex, 'hex'));
}

/** Check a `<algo>=<hex>` header against the HMAC of the body with one of `algos`. */
function prefixedHmac(
  value: string,
  body: Buffer,
  secret: Buffer,
  algos: readonly ('sha256' | 'sha512')[],
  key: KeyObject | undefined,
): VerifyResult {
  const eq = value.indexOf('=');
  const algo = eq === -1 ? '' : value.slice(0, eq).toLowerCase();
  const found = algos.find((a) => a === algo);
  if (!found) return mismatch(`unsupported signature algorithm (accepted: ${algos.join(', ')})`);
  const expected = createHmac(found, hmacKey(secret, key)).update(body).digest();
  return hexMatches(expected, value.slice(eq + 1)) ? OK : mismatch('signature does not match');
}

function verifyGithub(
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  key: KeyObject | undefined,
): VerifyResult {
  const sig = headerValue(headers, 'x-hub-signature-256');
  if (sig === undefined) {
    return headerValue(headers, 'x-hub-signature') === undefined
      ? missing('X-Hub-Signature-256 header is missing')
      : missing(
          'X-Hub-Signature-256 header is missing (legacy sha1 X-Hub-Signature is not accepted)',
        );
  }
  return prefixedHmac(sig, body, secret, ['sha256'], key);
}

function verifyGitea(
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  key: KeyObject | undefined,
): VerifyResult {
  const sigs = ['x-gitea-signature', 'x-forgejo-signature', 'x-gogs-signature']
    .map((h) => headerValue(headers, h))
    .filter((v): v is string => v !== undefined);
  if (sigs.length === 0) return missing('X-Gitea-Signature header is missing');
  // Every signature header that is present must match (Gitea sends copies under several names).
  const matchesAll = (signed: Buffer | string): boolean => {
    const expected = createHmac('sha256', hmacKey(secret, key)).update(signed).digest();
    let allMatch = true;
    for (const s of sigs) allMatch = hexMatches(expected, s) && allMatch;
    return allMatch;
  };
  if (matchesAll(body)) return OK;
  // With content type application/x-www-form-urlencoded Gitea, Forgejo and Gogs send
  // `payload=<urlencoded JSON>` but sign the JSON itself, not the form body.
  const form = formPayload(headers, body);
  return form !== undefined && matchesAll(form) ? OK : mismatch('signature does not match');
}

/** The `payload` field of a form-encoded body (undefined for any other content type). */
function formPayload(headers: WebhookHeaders, body: Buffer): string | undefined {
  const type = (headerValue(headers, 'content-type') ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  return new URLSearchParams(body.toString('utf8')).get('payload') ?? undefined;
}

/** Standard Webhooks keys may be given as `whsec_<base64>`; otherwise the bytes are the key. */
function standardWebhooksKey(secret: Buffer): Buffer {
  const s = secret.toString('utf8');
  return s.startsWith('whsec_') ? Buffer.from(s.slice('whsec_'.length), 'base64') : secret;
}

function verifyGitlabSigned(
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  now: Date,
  toleranceSec: number,
): VerifyResult {
  const id = headerValue(headers, 'webhook-id');
  const ts = headerValue(headers, 'webhook-timestamp');
  const sigs = headerValue(headers, 'webhook-signature');
  if (id === undefined || ts === undefined || sigs === undefined) {
    return missing('webhook-id, webhook-timestamp and webhook-signature are all required');
  }
  if (!/^\d{1,12}$/.test(ts)) return mismatch('webhook-timestamp is not a number of seconds');
  if (Math.abs(now.getTime() / 1000 - Number(ts)) > toleranceSec) {
    return { ok: false, kind: 'stale', reason: 'webhook-timestamp is outside the tolerance' };
  }
  const expected = createHmac('sha256', hmacKey(standardWebhooksKey(secret)))
    .update(`${id}.${ts}.`)
    .update(body)
    .digest();
  let matched = false;
  for (const entry of sigs.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const provided = Buffer.from(entry.slice(comma + 1), 'base64');
    if (provided.length === expected.length && timingSafeEqual(provided, expected)) matched = true;
  }
  return matched ? OK : mismatch('no v1 signature matches');
}

function verifyGitlab(
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  now: Date,
  toleranceSec: number,
): VerifyResult {
  const token = headerValue(headers, 'x-gitlab-token');
  const signed = headerValue(headers, 'webhook-signature') !== undefined;
  if (token === undefined && !signed) {
    return missing('X-Gitlab-Token or webhook-signature header is missing');
  }
  if (signed) {
    const r = verifyGitlabSigned(headers, body, secret, now, toleranceSec);
    if (!r.ok) return r;
  }
  if (token !== undefined) {
    // Hash both sides so the comparison is over equal lengths whatever the peer sent.
    const a = createHash('sha256').update(token, 'utf8').digest();
    const b = createHash('sha256').update(secret).digest();
    if (!timingSafeEqual(a, b)) return mismatch('X-Gitlab-Token does not match');
  }
  return OK;
}

function verifyHeaderHmac(
  header: string,
  display: string,
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  algos: readonly ('sha256' | 'sha512')[],
  key: KeyObject | undefined,
): VerifyResult {
  const sig = headerValue(headers, header);
  if (sig === undefined) return missing(`${display} header is missing`);
  return prefixedHmac(sig, body, secret, algos, key);
}

/**
 * Authenticate one delivery. Docker Hub sends no signature: the secret path (`/hook/<digest>`)
 * is its only credential, so it verifies by reaching here. `key`, when given, must be
 * `webhookHmacKey(secret)` (kept by the caller so that it is not made per delivery).
 */
export function verifyDelivery(
  source: WebhookSource,
  headers: WebhookHeaders,
  body: Buffer,
  secret: Buffer,
  now: Date,
  opts: VerifyOptions = {},
  key?: KeyObject,
): VerifyResult {
  const tolerance = opts.timestampToleranceSec ?? DEFAULT_TIMESTAMP_TOLERANCE_SEC;
  switch (source) {
    case 'github':
      return verifyGithub(headers, body, secret, key);
    case 'gitea':
      return verifyGitea(headers, body, secret, key);
    case 'gitlab':
      return verifyGitlab(headers, body, secret, now, tolerance);
    case 'bitbucket':
      return verifyHeaderHmac(
        'x-hub-signature',
        'X-Hub-Signature',
        headers,
        body,
        secret,
        ['sha256'],
        key,
      );
    case 'generic':
    case 'cloudevents':
      return verifyHeaderHmac(
        'x-signature',
        'X-Signature',
        headers,
        body,
        secret,
        ['sha256', 'sha512'],
        key,
      );
    case 'dockerhub':
      return OK;
  }
}

/** Hex SHA-256 of a secret's bytes: the `<digest>` of its hook path. */
export function secretDigest(secret: Buffer | string): string {
  return createHash('sha256').update(secret).digest('hex');
}
