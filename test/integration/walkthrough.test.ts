/**
 * The README's walkthrough, as a new user runs it: `make` (here: the service started in-process
 * with the same composition, plus an OpenBao dev server) and then `make enable`, whose script is
 * run as is. The demo container must print the secret it unwrapped.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bench.js';
import { startOpenBao, type OpenBao } from '../helpers/openbao.js';
import { startTestService, type TestService } from '../helpers/service.js';

let openbao: OpenBao;
let svc: TestService;
let devDir: string;

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
});

afterAll(async () => {
  await svc?.stop();
  await openbao?.stop();
  if (devDir) {
    await run('gpgconf', ['--kill', 'gpg-agent'], {
      ...process.env,
      GNUPGHOME: join(devDir, 'gnupg'),
    });
    await rm(devDir, { recursive: true, force: true });
  }
});

describe('README walkthrough (make enable)', () => {
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
    expect(r.out).toMatch(/deployed [0-9a-f]{40}/);
  });
});
