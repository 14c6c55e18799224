/**
 * The validation table (api-validation-table.ts) as a test suite over any transport: each bad
 * write must answer 400, report exactly the expected problems (each naming field and rule), and
 * leave every stored byte as it was. Call inside a `describe`; the transport says how to write
 * and how to see everything the mount stored.
 */
import { beforeEach, expect, it } from 'vitest';
import { badWrites, type GoodBody } from './api-validation-table.js';

/** How the suite reaches a mount, whatever carries the requests. */
export interface ValidationTransport {
  /** Bring the mount to a state where every SEEDS path holds its good body. */
  prepare(): Promise<void>;
  /** PUT `body` (sent as JSON text as is) to `<mount>/<path>`: status and the `errors` list. */
  write(path: string, body: unknown): Promise<{ status: number; errors: string[] }>;
  /** Names listed at `<mount>/<path>` (empty when nothing). */
  list(path: string): Promise<string[]>;
  /** Everything the mount stored, as comparable text. */
  snapshot(): Promise<string>;
  /** Which expectations apply: fakes of our interfaces, or the real services. */
  readonly services: 'fake' | 'real';
}

/**
 * One `errors` entry per problem. The plugin protocol carries one message per request, so the
 * plugin sends one line per problem; the HTTP service sends one entry per problem.
 */
function problems(errors: readonly string[]): string[] {
  return errors.flatMap((e) => e.split('\n')).filter((e) => e !== '');
}

/** Register the table's cases and the name-collision case. */
export function validationSuite(transport: () => ValidationTransport, good: () => GoodBody): void {
  beforeEach(async () => {
    await transport().prepare();
  });

  // Rows are built lazily (inside each test): real good bodies exist only after set-up.
  const names = badWrites(() => ({})).map((r) => r.name);
  it.each(names)('%s', async (name) => {
    const t = transport();
    const row = badWrites(good()).find((r) => r.name === name);
    if (!row) throw new Error(`no row ${name}`);
    const messages = t.services === 'real' ? (row.realMessages ?? row.messages) : row.messages;
    const before = await t.snapshot();
    const r = await t.write(row.path, row.body);
    expect(r.status).toBe(400);
    const errors = problems(r.errors);
    for (const m of messages) {
      expect(
        errors.some((e) => e.startsWith(m)),
        `${m} in ${JSON.stringify(errors)}`,
      ).toBe(true);
    }
    expect(errors).toHaveLength(messages.length);
    expect(await t.snapshot()).toBe(before);
  });

  it('a vault request whose variable collides with another request is refused', async () => {
    const t = transport();
    for (const name of ['APP', 'App']) {
      const r = await t.write(`configure/vault_request/${name}`, { path: '/v1/x' });
      expect(r.status).toBe(400);
      expect(problems(r.errors)).toEqual([
        'name: must not give the same variable VAULT_REQUEST_TOKEN_APP as the existing request app',
      ]);
    }
    expect((await t.write('configure/vault_request/a-b', { path: '/v1/x' })).status).toBe(204);
    const before = await t.snapshot();
    const r = await t.write('configure/vault_request/a.b', { path: '/v1/x' });
    expect(r.status).toBe(400);
    expect(await t.snapshot()).toBe(before);
    expect((await t.list('configure/vault_request')).sort()).toEqual(['a-b', 'app']);
  });
}
