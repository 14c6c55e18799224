/**
 * The plugin's pure parts, without gRPC or processes: start decisions from the environment,
 * the handshake line, hclog lines, request translation and the AppError → ProtoError table,
 * and the versioned entry store over a plain byte map (against the shared store contract).
 */
import { describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/api/dispatch.js';
import { createPathFinder } from '../../src/api/paths.js';
import { AppError, type ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { decideStart, handshakeLine, MAGIC_COOKIE_VALUE } from '../../src/plugin/handshake.js';
import { createHclogLogger, hclogTimestamp } from '../../src/plugin/hclog.js';
import { handlePbRequest, protoErrorOf } from '../../src/plugin/request.js';
import { createMemoryStore } from '../../src/storage/memory-store.js';
import { openEntryStore, type RawStorage } from '../../src/storage/entry-store.js';
import { fakeKeyInspector, fakeVaultAccess, goodBody } from '../helpers/api-app.js';
import { storeContract } from '../helpers/store-contract.js';

const v5 = { VAULT_BACKEND_PLUGIN: MAGIC_COOKIE_VALUE, PLUGIN_CLIENT_CERT: 'PEM' };

describe('start decisions', () => {
  it.each([
    [{ ...v5, PLUGIN_PROTOCOL_VERSIONS: '5' }, 'serve'],
    [{ ...v5, PLUGIN_PROTOCOL_VERSIONS: '4,5' }, 'serve'],
    [{ ...v5, PLUGIN_PROTOCOL_VERSIONS: '3,4' }, 'refuse stdout'],
    [{ ...v5, PLUGIN_PROTOCOL_VERSIONS: '5', PLUGIN_CLIENT_CERT: '' }, 'refuse stdout'],
    [{ PLUGIN_PROTOCOL_VERSIONS: '5', PLUGIN_CLIENT_CERT: 'PEM' }, 'refuse stderr'],
    [{ ...v5, VAULT_BACKEND_PLUGIN: 'x', PLUGIN_PROTOCOL_VERSIONS: '5' }, 'refuse stderr'],
  ])('%j → %s', (env, want) => {
    const d = decideStart(env);
    expect(d.kind === 'serve' ? 'serve' : `refuse ${d.stream}`).toBe(want);
  });

  it('the handshake line has six fields and no seventh', () => {
    expect(handshakeLine('/tmp/plugin1', 'QUJD')).toBe('1|5|unix|/tmp/plugin1|grpc|QUJD\n');
  });
});

describe('hclog lines', () => {
  it('string @level/@message, six-digit @timestamp, secrets redacted at any depth', () => {
    const lines: string[] = [];
    const log = createHclogLogger({
      sinks: [{ write: (l) => lines.push(l) }],
      now: () => new Date('2026-01-02T03:04:05.678Z'),
    }).child({ component: 'x' });
    log.info({ password: 'p', nested: { secret_id: 's', ok: 1 }, n: 3 }, 'hello');
    log.debug({}, 'dropped at info');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      component: 'x',
      password: '[REDACTED]',
      nested: { secret_id: '[REDACTED]', ok: 1 },
      n: 3,
      '@level': 'info',
      '@message': 'hello',
      '@module': 'flant_gitops',
      '@timestamp': '2026-01-02T03:04:05.678000Z',
    });
    expect(hclogTimestamp(new Date(0))).toBe('1970-01-01T00:00:00.000000Z');
  });
});

describe('AppError → ProtoError', () => {
  it.each<[ErrorCode, string, object | undefined]>([
    ['INVALID_INPUT', 'update', { err_type: 7, err_msg: 'x: bad' }],
    ['NOT_FOUND', 'read', undefined],
    ['NOT_FOUND', 'list', undefined],
    ['NOT_FOUND', 'delete', { err_type: 3, err_msg: 'x: bad', err_code: '404' }],
    ['PERMISSION_DENIED', 'read', { err_type: 8, err_msg: 'permission denied' }],
    ['UNSUPPORTED_OPERATION', 'delete', { err_type: 5, err_msg: 'x: bad' }],
    ['CONFLICT', 'update', { err_type: 3, err_msg: 'x: bad', err_code: '409' }],
    ['INTERNAL', 'update', { err_type: 3, err_msg: 'internal error', err_code: '500' }],
    ['STORAGE_FAILED', 'read', { err_type: 3, err_msg: 'storage is unavailable', err_code: '503' }],
  ])('%s on %s', (code, op, want) => {
    expect(protoErrorOf(new AppError(code, 'x: bad'), op as 'read')).toEqual(want);
  });
});

describe('request translation', () => {
  const env = () => {
    const store = createMemoryStore();
    return {
      store,
      env: {
        dispatch: createDispatcher(),
        find: createPathFinder(),
        logger: silentLogger(),
        context: {
          store,
          services: { keyInspector: fakeKeyInspector(), vaultAccess: fakeVaultAccess() },
          logger: silentLogger(),
          now: () => new Date(),
        },
      },
    };
  };
  const req = (operation: string, path: string, data: unknown = null) => ({
    id: 'r',
    operation,
    path,
    data: JSON.stringify(data),
    mount_point: 'flant-gitops/',
    mount_type: '',
    mount_accessor: '',
  });

  it('create and update both write; read answers JSON data; list paths end in a slash', async () => {
    const { env: e, store } = env();
    expect(await handlePbRequest(req('create', 'configure', goodBody('configure')), e)).toEqual({});
    expect(await store.get('configuration')).toBeDefined();
    const read = await handlePbRequest(req('read', 'configure'), e);
    expect(JSON.parse(read.response?.data ?? '')).toMatchObject({ git_branch_name: 'main' });
    await handlePbRequest(req('update', 'configure/vault_request/a', { path: '/v1/x' }), e);
    const list = await handlePbRequest(req('list', 'configure/vault_request/'), e);
    expect(JSON.parse(list.response?.data ?? '').keys).toEqual(['a']);
  });

  it('help names the request with its mount; rollback runs the periodic hook; data "null" is no fields', async () => {
    const { env: e } = env();
    const help = await handlePbRequest(req('help', 'configure'), e);
    expect(JSON.parse(help.response?.data ?? '').help).toContain(
      'Request:        flant-gitops/configure',
    );
    let ticks = 0;
    expect(await handlePbRequest(req('rollback', ''), { ...e, periodic: () => ticks++ })).toEqual(
      {},
    );
    expect(ticks).toBe(1);
    const empty = await handlePbRequest(req('update', 'configure'), e);
    expect(empty.err?.err_msg).toContain('git_repo_url: is required');
    const notJson = await handlePbRequest({ ...req('update', 'configure'), data: '{' }, e);
    expect(notJson.err?.err_msg).toBe('(body): must be a JSON object');
  });
});

describe('the entry store over a plain byte map', () => {
  storeContract(async () => {
    const bytes = new Map<string, Buffer>();
    const raw: RawStorage = {
      get: async (k) => bytes.get(k),
      put: async (k, v) => void bytes.set(k, v),
      delete: async (k) => void bytes.delete(k),
      list: async (prefix) => {
        const names = new Set<string>();
        for (const k of bytes.keys()) {
          if (!k.startsWith(prefix)) continue;
          const rest = k.slice(prefix.length);
          const i = rest.indexOf('/');
          names.add(i === -1 ? rest : rest.slice(0, i + 1));
        }
        return [...names];
      },
    };
    return openEntryStore(raw);
  });
});
