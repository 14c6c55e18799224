import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goodBody, makeTestApp, TEST_ROOT_TOKEN } from '../helpers/api-app.js';

const PATHS = [
  'configure',
  'configure/vault_request',
  'configure/vault_request/',
  'configure/vault_request/NAME',
  'configure_vault_access',
  'configure/trusted_pgp_public_key',
  'configure/trusted_pgp_public_key/NAME',
  'configure/git_credential',
  'configure/git_ssh_key',
];
const FIELDS = [
  ...new Set([
    ...Object.keys(goodBody('configure')),
    'git_branch_name',
    'git_poll_period',
    'required_number_of_verified_signatures_on_commit',
    'initial_last_successful_commit',
    ...Object.keys(goodBody('vault-request')),
    ...Object.keys(goodBody('vault-access')),
    'vault_cacert',
    'name',
    'public_key',
    'username',
    'password',
    'private_key',
    'known_hosts',
  ]),
];
const GOOD = [
  'configure',
  'vault-request',
  'vault-access',
  'trusted-key',
  'git-credential',
  'git-ssh-key',
].map(goodBody);

const name = fc.oneof(
  fc.constantFrom('app', 'a-b', 'a.b', 'A_B', 'x', '-bad', 'bad.', 'a b', '..', '%2F', 'ü'),
  fc.string({ minLength: 1, maxLength: 12 }),
);
const fieldValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '60',
    '59s',
    '1h30m',
    '5x',
    'GET',
    'list',
    '/v1/x',
    'v1/x',
    '{"a":1}',
    '[1]',
    'a,,b',
    'x\ny',
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 20 }),
);
/** A good body of some path, mutated: fields dropped, replaced or added. */
const mutatedBody = fc
  .tuple(
    fc.constantFrom(...GOOD),
    fc.dictionary(fc.constantFrom(...FIELDS, 'bogus'), fieldValue, { maxKeys: 4 }),
    fc.subarray(FIELDS),
  )
  .map(([good, changes, dropped]) => {
    const b: Record<string, unknown> = { ...good, ...changes };
    for (const f of dropped.slice(0, 2)) delete b[f];
    return JSON.stringify(b);
  });
const body = fc.oneof(
  mutatedBody,
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 30 }),
  fc.constant(''),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'GET', 'PUT', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  path: fc.oneof(
    fc
      .tuple(fc.constantFrom(...PATHS), name)
      .map(([p, n]) => p.replace('NAME', encodeURIComponent(n))),
    fc.array(fc.stringMatching(/^[\w.%-]{0,8}$/), { maxLength: 4 }).map((s) => s.join('/')),
  ),
  mount: fc.constantFrom('flant_gitops', 'flant_gitops', 'flant_gitops', 'other'),
  query: fc.constantFrom('', '', '?list=true', '?help=1', '?list=1&x=2', '?help=0', '?list'),
  token: fc.constantFrom(TEST_ROOT_TOKEN, TEST_ROOT_TOKEN, TEST_ROOT_TOKEN, undefined, 'nope'),
  contentType: fc.constantFrom('application/json', 'text/plain', undefined),
  body,
});

describe('random requests', () => {
  it('never get a 5xx, and a 4xx never changes what is stored', async () => {
    const t = makeTestApp();
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = await t.snapshot();
        const headers: Record<string, string> = {};
        if (r.token) headers['x-vault-token'] = r.token;
        if (r.contentType) headers['content-type'] = r.contentType;
        const res = await t.app.inject({
          method: r.method as 'GET',
          url: `/v1/${r.mount}/${r.path}${r.query}`,
          headers,
          ...(r.method === 'PUT' || r.method === 'POST' || r.method === 'DELETE'
            ? { payload: r.body }
            : {}),
        });
        seen.add(res.statusCode);
        expect(res.statusCode, `${r.method} ${r.path}${r.query}: ${res.body}`).toBeLessThan(500);
        if (res.statusCode >= 400) expect(await t.snapshot()).toBe(before);
      }),
      { numRuns: 10_000 },
    );
    // The generator reaches successes and each kind of refusal, so the property is not vacuous.
    for (const s of [200, 204, 400, 403, 404, 405])
      expect(seen.has(s), `status ${s} seen`).toBe(true);
  }, 120_000);
});
