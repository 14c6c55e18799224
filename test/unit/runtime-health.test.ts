/**
 * The parts of "healthy means able to run" that need no engine: the health check's address
 * (it follows FLANT_GITOPS_LISTEN; wildcards are probed on loopback), the data-dir check that
 * refuses at start-up naming the fix, and the service's git config that marks repositories safe.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertWritableDir } from '../../src/config/data-layout.js';
import { isAppError } from '../../src/errors.js';
import { serviceGitConfig } from '../../src/git/env.js';
import { readinessUrl } from '../../src/healthcheck.js';

const scratch = mkdtempSync(join(tmpdir(), 'fg-health-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('health check address', () => {
  it.each([
    ['0.0.0.0:8080', 'http://127.0.0.1:8080/readyz'],
    ['127.0.0.1:18080', 'http://127.0.0.1:18080/readyz'],
    ['[::]:9000', 'http://[::1]:9000/readyz'],
    ['[::1]:9000', 'http://[::1]:9000/readyz'],
    ['svc.local:80', 'http://svc.local:80/readyz'],
  ])('FLANT_GITOPS_LISTEN=%s → %s', (listen, url) => {
    expect(readinessUrl(listen)).toBe(url);
  });

  it('refuses an address that is not HOST:PORT', () => {
    expect(() => readinessUrl('8080')).toThrow(/FLANT_GITOPS_LISTEN must be HOST:PORT/);
  });
});

describe('data dir check', () => {
  it('creates a missing dir (0700) and leaves no probe file', async () => {
    const dir = join(scratch, 'data', 'runs');
    await assertWritableDir(dir, join(scratch, 'data'));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses what cannot be written with STORAGE_FAILED naming the uid and the fix', async () => {
    const file = join(scratch, 'not-a-dir');
    writeFileSync(file, '');
    const err = await assertWritableDir(join(file, 'runs'), file).catch((e: unknown) => e);
    expect(isAppError(err, 'STORAGE_FAILED')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain(`the data dir is not writable: cannot write in ${file}/runs`);
    expect(msg).toContain(`install -d -o ${process.getuid?.()} -g ${process.getgid?.()}`);
    expect((err as { next: string }).next).toBe('user');
  });
});

describe('service git config', () => {
  it('lists each safe directory quoted under [safe]', () => {
    const text = serviceGitConfig(['/srv/a b.git', '/srv/q"x\\y', '*']);
    expect(text).toContain('[safe]\n');
    expect(text).toContain('\tdirectory = "/srv/a b.git"\n');
    expect(text).toContain('\tdirectory = "/srv/q\\"x\\\\y"\n');
    expect(text).toContain('\tdirectory = "*"\n');
  });

  it('refuses a path with a line break (it could add other settings)', () => {
    expect(() => serviceGitConfig(['/srv/a\n[core]\n\tsshCommand = evil'])).toThrow(/line break/);
  });
});
