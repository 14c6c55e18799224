/**
 * The README's two walkthroughs, as a new user runs them, each script run as is; the demo
 * container must print the secret it unwrapped:
 * - `make` + `make enable`: OpenBao dev with the built plugin in its plugin directory (as
 *   scripts/dev-plugin.sh starts it), then scripts/enable-plugin.sh, all through OpenBao;
 * - `make serve` + `make enable-service`: the service started in-process with the same
 *   composition, plus an OpenBao dev server, then scripts/enable.sh.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import { freePort } from '../helpers/net.js';
import { startOpenBao, type OpenBao } from '../helpers/openbao.js';
import { startPluginBao, type PluginBao } from '../helpers/plugin-bao.js';
import { startTestService, type TestService } from '../helpers/service.js';

let openbao: OpenBao;
let svc: TestService;
let devDir: string;
let pluginBao: PluginBao;
let pluginDevDir: string;

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string }> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveP({ code: code ?? -1, out }));
  });
}

beforeAll(async () => {
  openbao = await startOpenBao({ token: 'walkthrough-root-token' });
  svc = await startTestService({ mounts: ['walkthrough'] });
  devDir = await mkdtemp(join(tmpdir(), 'fg-walkthrough-'));
  await writeFile(
    join(devDir, 'env'),
    [
      `OPENBAO_ADDR=${openbao.addr}`,
      `OPENBAO_TOKEN=${openbao.token}`,
      `SERVICE_ADDR=${svc.addr}`,
      `SERVICE_TOKEN_FILE=${join(svc.dataDir, 'root-token')}`,
      '',
    ].join('\n'),
  );
  // What scripts/dev-plugin.sh writes, for an OpenBao serving the plugin `make plugin` builds.
  pluginBao = await startPluginBao(inject('pluginExecutable'));
  pluginDevDir = await mkdtemp(join(tmpdir(), 'fg-walkthrough-plugin-'));
  const hook = `127.0.0.1:${await freePort()}`;
  await writeFile(join(pluginDevDir, 'token'), `${pluginBao.token}\n`, { mode: 0o600 });
  await writeFile(
    join(pluginDevDir, 'env'),
    [
      `OPENBAO_ADDR=${pluginBao.addr}`,
      `OPENBAO_TOKEN=${pluginBao.token}`,
      `SERVICE_ADDR=${pluginBao.addr}`,
      `SERVICE_TOKEN_FILE=${join(pluginDevDir, 'token')}`,
      `WEBHOOK_ADDR=http://${hook}`,
      `WEBHOOK_LISTEN=${hook}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await svc?.stop();
  await openbao?.stop();
  await pluginBao?.stop();
  for (const dir of [devDir, pluginDevDir]) {
    if (!dir) continue;
    await run('gpgconf', ['--kill', 'gpg-agent'], {
      ...process.env,
      GNUPGHOME: join(dir, 'gnupg'),
    });
    await rm(dir, { recursive: true, force: true });
  }
});

describe('README walkthrough (make enable: through OpenBao and the plugin)', () => {
  it('enables the mount, deploys the signed demo commit, the container prints the secret', async () => {
    const r = await run('bash', ['scripts/enable-plugin.sh'], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: pluginDevDir,
      FLANT_GITOPS_DEV_DIR: pluginDevDir,
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('Success! Enabled the flant_gitops secrets engine');
    expect(r.out).toContain('"greeting": "hello from OpenBao"');
    expect(r.out).toMatch(/webhook: HTTP 202/);
    expect(r.out).toMatch(/deployed [0-9a-f]{40}/);
    // Every step went through OpenBao's own address: the mount is a real secrets engine there.
    expect(
      await pluginBao.must(['read', '-field=last_successful_commit', 'flant_gitops/status']),
    ).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('README walkthrough (make enable-service: the standalone service)', () => {
  it('deploys the signed demo commit and the container prints the unwrapped secret', async () => {
    const r = await run('bash', ['scripts/enable.sh'], {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: devDir,
      FLANT_GITOPS_DEV_DIR: devDir,
      MOUNT: 'walkthrough',
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('"greeting": "hello from OpenBao"');
    expect(r.out).toMatch(/webhook URL: http:\/\/127\.0\.0\.1:\d+\/hook\/[0-9a-f]{64}/);
    expect(r.out).toMatch(/webhook: HTTP 202/);
    expect(r.out).toMatch(/deployed [0-9a-f]{40}/);
  });
});
