/**
 * The README's "Running as an OpenBao plugin" steps and its troubleshooting list, run against
 * the bench's real OpenBao: register by SHA-256 from a plugin directory, enable two mounts,
 * upgrade by re-register + reload; and the three set-up mistakes with the messages the README
 * quotes (a stray file in the plugin directory, a wrong SHA-256, no `node` on the PATH).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bao, startOpenBao, type OpenBao } from '../helpers/openbao.js';

const exe = inject('pluginExecutable');
const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
const dirs: string[] = [];
const servers: OpenBao[] = [];

function pluginDir(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'fg-plugin-setup-'));
  dirs.push(root);
  const dir = join(root, 'plugins');
  mkdirSync(dir);
  copyFileSync(exe, join(dir, 'flant_gitops'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

async function must(b: OpenBao, args: string[]): Promise<string> {
  const r = await bao(b, args);
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Start a dev server expected to fail; resolves once its log holds every `expected` text. */
async function failingStart(
  opts: Parameters<typeof startOpenBao>[0],
  expected: readonly (string | RegExp)[],
): Promise<void> {
  const log = join(dirs[dirs.length - 1] ?? tmpdir(), 'openbao.log');
  await expect(startOpenBao({ ...opts, logFile: log })).rejects.toThrow('did not start');
  for (const e of expected) {
    await expect.poll(() => readFileSync(log, 'utf8')).toMatch(e);
  }
}

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the README steps', () => {
  it('register by SHA-256, enable two mounts, upgrade with re-register + reload (config intact)', async () => {
    const dir = pluginDir();
    const ob = await startOpenBao({ configHcl: `plugin_directory = "${dir}"\n` });
    servers.push(ob);
    await must(ob, [
      'plugin',
      'register',
      `-sha256=${sha}`,
      '-version=v0.1.0',
      'secret',
      'flant_gitops',
    ]);
    await must(ob, ['secrets', 'enable', '-path=flant_gitops', 'flant_gitops']);
    await must(ob, ['secrets', 'enable', '-path=flant-gitops', 'flant_gitops']);
    await must(ob, ['write', 'flant_gitops/task/configure', 'task_timeout=7m']);
    expect((await bao(ob, ['read', 'flant-gitops/task/configure'])).stdout).toContain(
      'task_timeout',
    );
    expect(
      JSON.parse(await must(ob, ['read', '-format=json', 'flant-gitops/task/configure'])).data,
    ).toMatchObject({ task_timeout: 1800 }); // the other mount has only the defaults

    await must(ob, [
      'plugin',
      'register',
      `-sha256=${sha}`,
      '-version=v0.1.0',
      'secret',
      'flant_gitops',
    ]);
    await must(ob, ['plugin', 'reload', '-plugin=flant_gitops']);
    expect(
      JSON.parse(await must(ob, ['read', '-format=json', 'flant_gitops/task/configure'])).data,
    ).toMatchObject({ task_timeout: 420 });

    // Troubleshooting: a wrong SHA-256.
    await must(ob, [
      'plugin',
      'register',
      `-sha256=${'0'.repeat(64)}`,
      '-version=v0.1.0',
      'secret',
      'flant_gitops',
    ]);
    const wrong = await bao(ob, ['plugin', 'reload', '-plugin=flant_gitops']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('checksums did not match');
    const enable = await bao(ob, ['secrets', 'enable', '-path=third', 'flant_gitops']);
    expect(enable.stderr).toContain('checksums did not match');
  });
});

describe('troubleshooting, as the README quotes it', () => {
  it('a stray file in the -dev-plugin-dir: the dev server does not start and names the file', async () => {
    await failingStart({ pluginDir: pluginDir({ 'notes.txt': 'hello\n' }) }, [
      'Error enabling plugin notes.txt',
      /fork\/exec \S+\/notes\.txt: permission denied/,
    ]);
  });

  it("no node on the server's PATH: the plugin never answers its handshake", async () => {
    await failingStart({ pluginDir: pluginDir(), env: { PATH: '/nonexistent' } }, [
      'Error enabling plugin flant_gitops',
      "Failed to read any lines from plugin's stdout",
    ]);
  });
});
