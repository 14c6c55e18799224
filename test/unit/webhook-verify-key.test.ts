/**
 * The HMAC key an endpoint keeps (`ResolvedEndpoint.hmacKey`, made once by the endpoint index)
 * verifies exactly as the secret's bytes do, for every HMAC sender — and it is the key that is
 * used when given (a key of other bytes fails a delivery the secret would pass).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import type { WebhookHeaders, WebhookSource } from '../../src/webhook/types.js';
import { secretDigest, verifyDelivery, webhookHmacKey } from '../../src/webhook/verify.js';

const SECRET = Buffer.from('endpoint-secret');
const BODY = Buffer.from('{"ref":"refs/heads/main"}');
const NOW = new Date('2024-05-01T10:00:00Z');
const hex = (algo: string, key: Buffer) => createHmac(algo, key).update(BODY).digest('hex');

const signed: { source: WebhookSource; headers: (key: Buffer) => WebhookHeaders }[] = [
  { source: 'github', headers: (k) => ({ 'x-hub-signature-256': `sha256=${hex('sha256', k)}` }) },
  { source: 'gitea', headers: (k) => ({ 'x-gitea-signature': hex('sha256', k) }) },
  { source: 'bitbucket', headers: (k) => ({ 'x-hub-signature': `sha256=${hex('sha256', k)}` }) },
  { source: 'generic', headers: (k) => ({ 'x-signature': `sha512=${hex('sha512', k)}` }) },
  { source: 'cloudevents', headers: (k) => ({ 'x-signature': `sha256=${hex('sha256', k)}` }) },
];

describe('verification with the endpoint-kept HMAC key', () => {
  it.each(signed)('$source: same answers as with the secret bytes alone', ({ source, headers }) => {
    const key = webhookHmacKey(SECRET);
    for (const h of [headers(SECRET), headers(Buffer.from('other'))]) {
      expect(verifyDelivery(source, h, BODY, SECRET, NOW, {}, key)).toEqual(
        verifyDelivery(source, h, BODY, SECRET, NOW),
      );
    }
  });

  it.each(signed)('$source: the given key is the one used', ({ source, headers }) => {
    const otherKey = webhookHmacKey(Buffer.from('other'));
    expect(verifyDelivery(source, headers(SECRET), BODY, SECRET, NOW)).toEqual({ ok: true });
    expect(verifyDelivery(source, headers(SECRET), BODY, SECRET, NOW, {}, otherKey)).toMatchObject({
      ok: false,
      kind: 'mismatch',
    });
  });

  it('the endpoint index resolves each endpoint with the key of its own secret', async () => {
    const logger = silentLogger();
    const dir = createEndpointDirectory({
      store: createMemoryStore(),
      logger,
      staticEndpoints: [
        {
          name: 'a',
          mount: 'm',
          source: 'github',
          secret: SECRET,
          branch: undefined,
          backends: [],
        },
      ],
    });
    const [ep] = await dir.lookup(secretDigest(SECRET));
    expect(ep?.hmacKey?.export()).toEqual(SECRET);
  });
});
