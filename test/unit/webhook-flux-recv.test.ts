import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { loadFluxRecvEndpoints } from '../../src/webhook/flux-recv.js';
import { createWebhookReceiver } from '../../src/webhook/receiver.js';
import { secretDigest } from '../../src/webhook/verify.js';
import { FIXTURES } from '../helpers/bench.js';

const DIR = join(FIXTURES, 'webhooks', 'flux-recv');

describe('flux-recv configuration', () => {
  it('loads every endpoint for every given mount, keys read relative to the YAML file', async () => {
    const specs = await loadFluxRecvEndpoints(join(DIR, 'flux-recv.yaml'), ['alpha', 'beta']);
    expect(specs.map((s) => `${s.mount}:${s.source}:${s.name}`)).toEqual([
      'alpha:github:flux-recv:github.key',
      'beta:github:flux-recv:github.key',
      'alpha:gitlab:flux-recv:gitlab.key',
      'beta:gitlab:flux-recv:gitlab.key',
      'alpha:dockerhub:flux-recv:dockerhub.key',
      'beta:dockerhub:flux-recv:dockerhub.key',
    ]);
    expect(specs[0]?.secret.equals(readFileSync(join(DIR, 'github.key')))).toBe(true);
  });

  it('reports every problem of a bad file at once (empty key, unsupported source, missing key)', async () => {
    const e = await loadFluxRecvEndpoints(join(DIR, 'bad.yaml'), ['m']).catch((x: unknown) => x);
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
    const msg = (e as Error).message;
    expect(msg).toContain('endpoints.0.keyPath: empty.key is empty');
    expect(msg).toContain('endpoints.1.source: Quay is not supported');
    expect(msg).toContain('endpoints.2.keyPath: missing.key cannot be read');
  });

  it('refuses a file that is not fluxRecvVersion 1', async () => {
    const e = await loadFluxRecvEndpoints(join(DIR, 'github.key'), ['m']).catch((x: unknown) => x);
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
  });

  it('its endpoints verify deliveries at /hook/<sha256 of the key file>', async () => {
    const specs = await loadFluxRecvEndpoints(join(DIR, 'flux-recv.yaml'), ['flant_gitops']);
    const polls: string[] = [];
    const logger = silentLogger();
    const receiver = createWebhookReceiver({
      endpoints: createEndpointDirectory({
        store: createMemoryStore(),
        staticEndpoints: specs,
        logger,
      }),
      poller: { requestPoll: (m, r) => polls.push(`${m} ${r}`) },
      deduper: createDeliveryDeduper(),
      logger,
    });
    const key = readFileSync(join(DIR, 'github.key'));
    const body = readFileSync(join(FIXTURES, 'webhooks', 'github-push.json'));
    const signature = `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
    const ok = await receiver.handle({
      method: 'POST',
      digest: secretDigest(key),
      headers: { 'x-github-event': 'push', 'x-hub-signature-256': signature },
      body,
    });
    expect(ok.status).toBe(202);
    expect(polls).toEqual(['flant_gitops webhook flux-recv:github.key: push']);
    const gitlabKey = readFileSync(join(DIR, 'gitlab.key'));
    const token = await receiver.handle({
      method: 'POST',
      digest: secretDigest(gitlabKey),
      headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'wrong' },
      body: readFileSync(join(FIXTURES, 'webhooks', 'gitlab-push.json')),
    });
    expect(token.status).toBe(403);
  });
});
