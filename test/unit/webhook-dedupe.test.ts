import { describe, expect, it } from 'vitest';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { hubRepositoryOfImage, normalizeHubRepository } from '../../src/webhook/docker-hub.js';

const at = (ms: number) => new Date(ms);

describe('delivery de-duplication', () => {
  it('a delivery id is new once, a replay within the window is not', () => {
    const d = createDeliveryDeduper({ windowMs: 1000 });
    expect(d.firstSeen('a', at(0))).toBe(true);
    expect(d.firstSeen('a', at(999))).toBe(false);
    expect(d.firstSeen('b', at(999))).toBe(true);
  });

  it('after the window the same id counts as new again', () => {
    const d = createDeliveryDeduper({ windowMs: 1000 });
    d.firstSeen('a', at(0));
    expect(d.firstSeen('a', at(1000))).toBe(true);
  });

  it('forgets expired ids and never holds more than maxEntries', () => {
    const d = createDeliveryDeduper({ windowMs: 1000, maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) d.firstSeen(id, at(0));
    expect(d.size()).toBe(3);
    expect(d.firstSeen('a', at(1))).toBe(true); // evicted as the oldest
    d.firstSeen('z', at(5000));
    expect(d.size()).toBe(1);
  });
});

describe('Docker Hub repository names', () => {
  it.each([
    ['acme/app@sha256:' + 'a'.repeat(64), 'acme/app'],
    ['docker.io/acme/app:1.0@sha256:' + 'a'.repeat(64), 'acme/app'],
    ['index.docker.io/acme/app:1.0@sha256:' + 'a'.repeat(64), 'acme/app'],
    ['index.docker.io/acme/app:1.0 (not pinned: no image)', undefined],
    ['nginx:1.25@sha256:' + 'a'.repeat(64), 'library/nginx'],
    ['ghcr.io/acme/app@sha256:' + 'a'.repeat(64), undefined],
    ['localhost:5000/app:1', undefined],
    ['sha256:' + 'a'.repeat(64), undefined],
  ])('%s → %s', (image, repo) => {
    expect(hubRepositoryOfImage(image)).toBe(repo);
  });

  it('normalises payload repo names the same way', () => {
    expect(normalizeHubRepository('nginx')).toBe('library/nginx');
    expect(normalizeHubRepository('Acme/App')).toBe('acme/app');
  });
});
