import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configureWebhookPath, configureWebhooksPath } from '../../src/api/configure-webhook.js';
import type { PathContext, PathRequest } from '../../src/api/types.js';
import { createSettingsEvents, type SettingChange } from '../../src/config/settings-events.js';
import { mountScope } from '../../src/config/stored.js';
import { isAppError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { scopedStore, type Store } from '../../src/storage/store.js';
import { createDeliveryDeduper } from '../../src/webhook/dedupe.js';
import { createEndpointDirectory } from '../../src/webhook/endpoints.js';
import { createWebhookReceiver } from '../../src/webhook/receiver.js';
import { settingsIn, validConfiguration } from '../helpers/settings.js';

const MOUNT = 'flant_gitops';
const SECRET = 'a-long-webhook-secret\n'; // as `bao write … secret=@secret.key` sends a file with a newline
const DIGEST = createHash('sha256').update(SECRET).digest('hex');

/** Where the API's settings writes are announced (the directory under test listens). */
const events = createSettingsEvents();

function ctx(store: Store): PathContext {
  return {
    store: scopedStore(store, mountScope(MOUNT)),
    services: { settingsEvents: events } as unknown as PathContext['services'],
    logger: silentLogger(),
    now: () => new Date(),
  };
}

function req(
  operation: PathRequest['operation'],
  name: string | undefined,
  data: Record<string, unknown> = {},
): PathRequest {
  return {
    operation,
    mount: MOUNT,
    path: name === undefined ? 'configure/webhook' : `configure/webhook/${name}`,
    captures: name === undefined ? {} : { name },
    data,
  };
}

async function write(store: Store, name: string, data: Record<string, unknown>): Promise<unknown> {
  return configureWebhookPath.operations
    .update?.(req('update', name, data), ctx(store))
    .catch((e: unknown) => e);
}

describe('configure/webhook/<name>', () => {
  it('stores an endpoint and reads it back without the secret, with the hook path', async () => {
    const store = createMemoryStore();
    await write(store, 'gh', {
      source: 'GitHub',
      secret: SECRET,
      backends: 'https://a.example/hook/x, http://127.0.0.1:9/h',
    });
    const r = await configureWebhookPath.operations.read?.(req('read', 'gh'), ctx(store));
    expect(r?.data).toEqual({
      name: 'gh',
      source: 'github',
      branch: '',
      backends: ['https://a.example/hook/x', 'http://127.0.0.1:9/h'],
      hook_path: `/hook/${DIGEST}`,
    });
    expect(JSON.stringify(r)).not.toContain('a-long-webhook-secret');
  });

  it.each([
    ['no secret', { source: 'github' }, 'secret: is required'],
    ['an empty secret', { source: 'github', secret: '' }, 'secret: must not be empty'],
    ['an unknown source', { source: 'svn', secret: 's' }, 'source: must be one of'],
    [
      'a non-http backend',
      { source: 'github', secret: 's', backends: 'ftp://x/y' },
      'backends: each backend must be an http(s) URL',
    ],
    [
      'a backend with credentials',
      { source: 'github', secret: 's', backends: ['https://u:p@x/y'] },
      'must not carry credentials',
    ],
    ['an unknown field', { source: 'github', secret: 's', colour: 'red' }, 'colour: unknown field'],
  ])('refuses %s', async (_n, data, message) => {
    const store = createMemoryStore();
    const e = await write(store, 'gh', data);
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toContain(message);
    expect(await store.list('')).toEqual([]);
  });

  it('refuses a bad name', async () => {
    const e = await write(createMemoryStore(), '-bad-', { source: 'github', secret: 's' });
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
  });

  it('lists endpoints with key_info and no secrets; 404 when there are none', async () => {
    const store = createMemoryStore();
    const empty = await configureWebhooksPath.operations
      .list?.(req('list', undefined), ctx(store))
      .catch((e: unknown) => e);
    expect(isAppError(empty, 'NOT_FOUND')).toBe(true);
    await write(store, 'a', { source: 'gitlab', secret: SECRET });
    await write(store, 'b', { source: 'dockerhub', secret: 'other', branch: 'prod' });
    const r = await configureWebhooksPath.operations.list?.(req('list', undefined), ctx(store));
    expect(r?.data.keys).toEqual(['a', 'b']);
    expect(JSON.stringify(r)).not.toContain('other"');
    expect((r?.data.key_info as Record<string, { hook_path: string }>).a?.hook_path).toBe(
      `/hook/${DIGEST}`,
    );
  });

  it('delete removes the endpoint; a read then is NOT_FOUND', async () => {
    const store = createMemoryStore();
    await write(store, 'gh', { source: 'github', secret: SECRET });
    await configureWebhookPath.operations.delete?.(req('delete', 'gh'), ctx(store));
    const e = await configureWebhookPath.operations
      .read?.(req('read', 'gh'), ctx(store))
      .catch((x: unknown) => x);
    expect(isAppError(e, 'NOT_FOUND')).toBe(true);
  });
});

describe('API writes reach the receiver (cache invalidated on write)', () => {
  it('a new endpoint answers at once, a deleted one is 404 at once, the branch follows the mount', async () => {
    const polls: string[] = [];
    const store = createMemoryStore();
    const logger = silentLogger();
    const directory = createEndpointDirectory({
      store,
      logger,
      maxAgeMs: 3_600_000,
      settingsEvents: events,
    });
    const settings = settingsIn(store, MOUNT, events);
    const receiver = createWebhookReceiver({
      endpoints: directory,
      poller: { requestPoll: (m) => polls.push(m) },
      deduper: createDeliveryDeduper(),
      logger,
    });
    const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/release' }));
    const deliver = () =>
      receiver.handle({
        method: 'POST',
        digest: DIGEST,
        headers: {
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
        body,
      });

    expect((await deliver()).status).toBe(404); // loads (empty) index
    await settings.configuration.put(validConfiguration({ git_branch_name: 'main' }));
    await write(store, 'gh', { source: 'github', secret: SECRET });
    expect((await deliver()).body).toEqual({ status: 'ignored' }); // push to release, mount follows main
    await settings.configuration.put(validConfiguration({ git_branch_name: 'release' }));
    expect((await deliver()).body).toEqual({ status: 'accepted' });
    expect(polls).toEqual([MOUNT]);
    await configureWebhookPath.operations.delete?.(req('delete', 'gh'), ctx(store));
    expect((await deliver()).status).toBe(404);
  });

  it('the settings owner announces each write, naming the setting', async () => {
    const own = createSettingsEvents();
    const seen: SettingChange[] = [];
    own.subscribe((c) => seen.push(c));
    const settings = settingsIn(createMemoryStore(), MOUNT, own);
    await settings.configuration.put(validConfiguration());
    await settings.webhooks.put('x', {
      name: 'x',
      source: 'github',
      secret: SECRET,
      branch: '',
      backends: [],
    });
    await settings.webhooks.delete('x');
    await settings.taskSettings.put({ task_timeout: 60, task_history_limit: 1 });
    expect(seen).toEqual([
      { mount: MOUNT, setting: 'configuration' },
      { mount: MOUNT, setting: 'webhook', name: 'x' },
      { mount: MOUNT, setting: 'webhook', name: 'x' },
      { mount: MOUNT, setting: 'task_settings' },
    ]);
  });

  it('an endpoint stored in a shape its schema refuses is skipped; the others still answer', async () => {
    const store = createMemoryStore();
    await store.put(`${mountScope(MOUNT)}webhook/broken`, { name: 'broken', source: 'github' });
    await write(store, 'gh', { source: 'github', secret: SECRET });
    const directory = createEndpointDirectory({ store, logger: silentLogger() });
    const found = await directory.lookup(DIGEST);
    expect(found.map((e) => e.name)).toEqual(['gh']);
  });

  it('only webhook and configuration changes drop the endpoint index', async () => {
    const own = createSettingsEvents();
    const store = createMemoryStore();
    let loads = 0;
    const counting = { ...store, list: (p: string) => (p === 'mounts/' && loads++, store.list(p)) };
    const directory = createEndpointDirectory({
      store: counting,
      logger: silentLogger(),
      maxAgeMs: 3_600_000,
      settingsEvents: own,
    });
    const settings = settingsIn(store, MOUNT, own);
    await directory.lookup(DIGEST);
    await settings.taskSettings.put({ task_timeout: 60, task_history_limit: 1 });
    await settings.gitCredential.put({ username: 'u', password: 'p' });
    await directory.lookup(DIGEST);
    expect(loads).toBe(1);
    await settings.configuration.put(validConfiguration());
    await directory.lookup(DIGEST);
    expect(loads).toBe(2);
  });
});
