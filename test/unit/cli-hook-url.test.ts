import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-hook-url-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

describe('flant-gitops hook-url', () => {
  it('prints /hook/ and the same digest as sha256sum of the secret file', () => {
    const file = join(dir, 'secret.key');
    writeFileSync(file, 'It is a secret, with a trailing newline\n');
    const expected = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    const r = cli(['hook-url', '--secret-file', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`/hook/${expected}\n`);
    expect(r.stdout + r.stderr).not.toContain('It is a secret');
  });

  it.each([
    ['no --secret-file', [], /--secret-file is required/, 2],
    ['a missing file', ['--secret-file', join(dir, 'nope')], /cannot read .*ENOENT/, 1],
    ['an empty file', ['--secret-file', join(dir, 'empty')], /is empty/, 1],
  ])('refuses %s with a clear message', (_name, args, message, code) => {
    writeFileSync(join(dir, 'empty'), '');
    const r = cli(['hook-url', ...args]);
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
