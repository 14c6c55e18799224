/** The pure rules of target-Vault access: env names, token lifetime, rotation, message handling. */
import { describe, expect, it } from 'vitest';
import { requestTokenEnvName } from '../../src/config/rules/env-name.js';
import { effectiveTtl, rotationDue, tokenAction } from '../../src/vault/lifecycle.js';
import { scrub, vaultFailure } from '../../src/vault/failures.js';
import {
  classifyFailure,
  flattenMessage,
  splitApiPath,
  VaultCallError,
} from '../../src/vault/transport.js';
import { normalizeMount } from '../../src/vault/approle.js';

describe('requestTokenEnvName', () => {
  const cases: [string, string][] = [
    ['get_configuration', 'VAULT_REQUEST_TOKEN_GET_CONFIGURATION'],
    ['db-main', 'VAULT_REQUEST_TOKEN_DB_MAIN'],
    ['db.main-2', 'VAULT_REQUEST_TOKEN_DB_MAIN_2'],
    ['X', 'VAULT_REQUEST_TOKEN_X'],
  ];
  it.each(cases)('%s → %s', (name, env) => expect(requestTokenEnvName(name)).toBe(env));
});

describe('effectiveTtl: Vault’s TTL capped by token_ttl', () => {
  const cases: [number, number, number][] = [
    [3600, 60, 60],
    [30, 60, 30],
    [0, 60, 60],
    [120, 0, 120],
  ];
  it.each(cases)('vault %i, token_ttl %i → %i', (v, t, e) => expect(effectiveTtl(v, t)).toBe(e));
});

describe('tokenAction', () => {
  const t = { obtainedAt: 1_000_000, expiresAt: 1_000_000 + 60_000, renewable: true };
  const cases: [string, typeof t | undefined, number, string][] = [
    ['no token → login', undefined, 0, 'login'],
    ['fresh → use', t, t.obtainedAt + 10_000, 'use'],
    ['past half → renew', t, t.obtainedAt + 31_000, 'renew'],
    ['past half, not renewable → use', { ...t, renewable: false }, t.obtainedAt + 31_000, 'use'],
    ['inside the safety margin → login', t, t.expiresAt - 5_000, 'login'],
    ['expired → login', t, t.expiresAt + 1, 'login'],
    ['non-expiring → use', { ...t, expiresAt: t.obtainedAt }, t.obtainedAt + 1e9, 'use'],
  ];
  it.each(cases)('%s', (_n, state, now, action) => expect(tokenAction(state, now)).toBe(action));
});

describe('rotationDue: more than 10 % of secret_id_ttl since minting', () => {
  const issued = '2030-01-01T00:00:00.000Z';
  const at = Date.parse(issued);
  const cases: [string, string | undefined, number, number, boolean][] = [
    ['just minted', issued, 3600, at, false],
    ['exactly 10 %', issued, 3600, at + 360_000, false],
    ['just past 10 %', issued, 3600, at + 360_001, true],
    ['unknown minting time', undefined, 3600, at, true],
    ['unparseable minting time', 'yesterday', 3600, at, true],
    ['secret id that never expires', issued, 0, at + 1e12, false],
  ];
  it.each(cases)('%s → %s', (_n, i, ttl, now, due) => expect(rotationDue(i, ttl, now)).toBe(due));
});

describe('Vault messages', () => {
  it('flattens Go multierror text into its items', () => {
    expect(flattenMessage('1 error occurred:\n\t* permission denied\n\n')).toEqual([
      'permission denied',
    ]);
    expect(flattenMessage('2 errors occurred:\n\t* a\n\t* b\n\n')).toEqual(['a', 'b']);
    expect(flattenMessage('invalid role or secret ID')).toEqual(['invalid role or secret ID']);
  });

  it('classifies HTTP, network and TLS failures without keeping the request', () => {
    const http = {
      message: 'x',
      response: { statusCode: 403, body: { errors: ['permission denied'] } },
    };
    expect(classifyFailure(http)).toEqual({
      kind: 'http',
      status: 403,
      errors: ['permission denied'],
    });
    expect(
      classifyFailure({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }),
    ).toMatchObject({ kind: 'network' });
    expect(
      classifyFailure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'bad name' }),
    ).toMatchObject({ kind: 'tls' });
    expect(
      classifyFailure({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed' }),
    ).toMatchObject({ kind: 'tls' });
  });

  it('scrubs known secrets out of any text', () => {
    expect(
      scrub('token s.abcdef123 and id 1234-5678', ['s.abcdef123', '1234-5678', undefined, '']),
    ).toBe('token [REDACTED] and id [REDACTED]');
  });

  const failures: [string, VaultCallError, string, string][] = [
    [
      '4xx needs a person',
      new VaultCallError({ kind: 'http', status: 403, errors: ['permission denied'] }),
      'VAULT_REQUEST_FAILED',
      'user',
    ],
    [
      '5xx is retried later',
      new VaultCallError({ kind: 'http', status: 503, errors: ['sealed'] }),
      'VAULT_REQUEST_FAILED',
      'retry-later',
    ],
    [
      'network is unreachable, retry later',
      new VaultCallError({ kind: 'network', code: 'ECONNREFUSED', message: 'refused' }),
      'VAULT_UNREACHABLE',
      'retry-later',
    ],
    [
      'TLS is unreachable, needs a person',
      new VaultCallError({ kind: 'tls', code: 'CERT_HAS_EXPIRED', message: 'expired' }),
      'VAULT_UNREACHABLE',
      'user',
    ],
  ];
  it.each(failures)('%s', (_n, e, code, next) => {
    const err = vaultFailure('vault request "x" (GET /v1/a)', e, []);
    expect(err.code).toBe(code);
    expect(err.next).toBe(next);
    expect(err.reason).toMatch(/^vault request "x" \(GET \/v1\/a\) failed: /);
    expect(err.cause).toBeUndefined();
  });

  it('never repeats a secret that Vault echoed back', () => {
    const e = new VaultCallError({
      kind: 'http',
      status: 400,
      errors: ['bad secret_id s3cr3t-value'],
    });
    const err = vaultFailure('AppRole login', e, ['s3cr3t-value']);
    expect(err.reason).not.toContain('s3cr3t-value');
    expect(JSON.stringify(err.details)).not.toContain('s3cr3t-value');
  });
});

describe('paths', () => {
  const cases: [string, string, string][] = [
    ['/v1/secret/data/app', 'v1', '/secret/data/app'],
    ['/v1/secret/metadata/?list=true', 'v1', '/secret/metadata/?list=true'],
    ['/v1/', 'v1', '/'],
  ];
  it.each(cases)('%s is sent as is (api version %s + %s)', (p, v, rest) =>
    expect(splitApiPath(p)).toEqual({ apiVersion: v, rest }),
  );
  it('trims slashes around the AppRole mount', () => {
    expect(normalizeMount('/auth/approle/')).toBe('auth/approle');
  });
});
