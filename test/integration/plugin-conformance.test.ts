/**
 * Conformance of the built plugin executable with the go-plugin/OpenBao protocol, without
 * OpenBao: a fake host (test/helpers/fake-plugin-host.ts) drives the file `make plugin` ships
 * through start-up, the broker dance, every backend RPC and shutdown, and the refusals.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  firstLine,
  launchEnv,
  parseHandshake,
  spawnPlugin,
  startFakeHost,
  type FakeHost,
} from '../helpers/fake-plugin-host.js';
import { createLocalhostCertificate } from '../../src/plugin/cert.js';

const exe = inject('pluginExecutable');
const DIGEST = 'sha256:' + 'ab'.repeat(32);
/** Every stderr text of every plugin process of this file, checked at the end. */
const stderrs: string[] = [];
const hosts: FakeHost[] = [];

async function host(extraEnv: NodeJS.ProcessEnv = {}): Promise<FakeHost> {
  const h = await startFakeHost(exe, extraEnv);
  hosts.push(h);
  return h;
}

async function setUp(h: FakeHost, brokerId = 1): Promise<void> {
  h.announceStorage(brokerId);
  expect(
    await h.backend('Setup', {
      broker_id: brokerId,
      Config: { plugin_name: 'flant_gitops' },
      backendUUID: 'u',
    }),
  ).toEqual({ err: '' });
}

function request(operation: string, path: string, data: unknown = null): object {
  return {
    request: {
      id: `req-${operation}`,
      operation,
      path,
      data: JSON.stringify(data),
      mount_point: 'flant_gitops/',
      mount_type: 'flant_gitops',
    },
  };
}

afterAll(async () => {
  for (const h of hosts) {
    await h.close();
    stderrs.push(h.plugin.stderr());
  }
});

describe('the handshake', () => {
  it('is one line 1|5|unix|<socket>|grpc|<unpadded base64 DER> of a localhost cert with both EKUs', async () => {
    const h = await host();
    const line = h.plugin.stdout().split('\n')[0] ?? '';
    expect(line).toMatch(/^1\|5\|unix\|\/[^|]+\|grpc\|[A-Za-z0-9+/]+$/);
    expect(h.handshake.certBase64).not.toContain('=');
    expect(existsSync(h.handshake.socketPath)).toBe(true);
    const cert = h.handshake.cert;
    expect(cert.subjectAltName).toBe('DNS:localhost');
    expect(cert.ca).toBe(true);
    expect(cert.keyUsage).toEqual(
      expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']),
    );
    expect(BigInt(`0x${cert.serialNumber}`) > 0n).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(Date.now() - 20_000);
  });

  it('nothing else is written to stdout', async () => {
    const h = await host();
    await setUp(h);
    await h.backend('HandleRequest', request('read', 'configure'));
    expect(h.plugin.stdout().trim().split('\n')).toHaveLength(1);
  });
});

describe('a mount, RPC by RPC', () => {
  it('Setup → Type → SpecialPaths → Initialize → requests → Cleanup → Shutdown, exiting within 2 s', async () => {
    const h = await host();
    await setUp(h);
    expect(h.storage.calls.filter((c) => c === 'Put' || c === 'Delete')).toEqual([]);
    expect(await h.backend('Type')).toEqual({ type: 1 });
    const special = await h.backend<{ paths: { seal_wrap_storage: string[] } }>('SpecialPaths');
    expect(special.paths.seal_wrap_storage).toContain('configure_vault_access');
    expect(await h.backend('Initialize')).toEqual({ err: null });
    expect(await h.backend('HandleExistenceCheck', request('update', 'configure'))).toMatchObject({
      check_found: false,
    });
    expect(await h.backend('HandleRequest', request('resolve-path', 'configure'))).toEqual({
      response: null,
      err: null,
    });

    const write = await h.backend(
      'HandleRequest',
      request('update', 'configure', {
        git_repo_url: 'https://git.example.com/a.git',
        docker_image: DIGEST,
        commands: './deploy.sh',
        git_poll_period: '1h',
      }),
    );
    expect(write).toEqual({ response: null, err: null });
    expect([...h.storage.data.keys()]).toEqual(['configuration']);

    const read = await h.backend<{ response: { data: string } }>(
      'HandleRequest',
      request('read', 'configure'),
    );
    expect(JSON.parse(read.response.data)).toMatchObject({
      git_poll_period: 3600,
      commands: ['./deploy.sh'],
    });

    await h.backend(
      'HandleRequest',
      request('create', 'configure/vault_request/app', { path: '/v1/x' }),
    );
    const list = await h.backend<{ response: { data: string } }>(
      'HandleRequest',
      request('list', 'configure/vault_request/'),
    );
    expect(JSON.parse(list.response.data).keys).toEqual(['app']);

    const help = await h.backend<{ response: { data: string } }>(
      'HandleRequest',
      request('help', 'configure'),
    );
    expect(JSON.parse(help.response.data).help).toContain('## PARAMETERS');

    expect(await h.backend('HandleRequest', request('rollback', ''))).toEqual({
      response: null,
      err: null,
    });
    await h.backend('InvalidateKey', { key: 'configuration' });
    expect(await h.call('pluginVersion', 'Version')).toEqual({ plugin_version: 'v0.1.0' });
    expect(await h.call('health', 'Check', { service: 'plugin' })).toEqual({ status: 1 });

    expect(await h.backend('Cleanup')).toEqual({});
    const asked = Date.now();
    await h.call('controller', 'Shutdown');
    expect(await h.plugin.exited).toBe(0);
    expect(Date.now() - asked).toBeLessThan(2_000);
    expect(existsSync(h.handshake.socketPath)).toBe(false);
  });

  it('maps refusals to ProtoErrors: 400 naming field and rule, unknown path, unsupported operation, read of nothing', async () => {
    const h = await host();
    await setUp(h);
    const bad = await h.backend<{
      err: { err_type: number; err_msg: string };
      response: { data: string };
    }>('HandleRequest', request('update', 'configure', { docker_image: 'alpine', commands: '' }));
    expect(bad.err.err_type).toBe(7);
    expect(bad.err.err_msg.split('\n')).toEqual(
      expect.arrayContaining(['git_repo_url: is required', 'commands: must not be empty']),
    );
    expect(JSON.parse(bad.response.data).error).toBe(bad.err.err_msg);
    expect(h.storage.data.size).toBe(0);
    expect(await h.backend('HandleRequest', request('read', 'nowhere'))).toMatchObject({
      err: { err_type: 6 },
    });
    expect(await h.backend('HandleRequest', request('delete', 'status'))).toMatchObject({
      err: { err_type: 5 },
    });
    expect(await h.backend('HandleRequest', request('renew', 'configure'))).toMatchObject({
      err: { err_type: 5 },
    });
    expect(await h.backend('HandleRequest', request('read', 'configure'))).toEqual({
      response: null,
      err: null,
    });
    const poll = await h.backend<{ err: { err_msg: string } }>(
      'HandleRequest',
      request('update', 'poll'),
    );
    expect(poll.err.err_msg).toContain('runs no pipeline yet');
  });

  it('a storage failure is a 503 with a generic text; the detail stays in the log', async () => {
    const h = await host();
    await setUp(h);
    h.storage.failNext('physical: disk on fire');
    const r = await h.backend<{ err: { err_type: number; err_msg: string; err_code: string } }>(
      'HandleRequest',
      request('read', 'configure'),
    );
    expect(r.err).toMatchObject({
      err_type: 3,
      err_msg: 'storage is unavailable',
      err_code: '503',
    });
    await expect.poll(() => h.plugin.stderr()).toContain('disk on fire');
  });

  it('the ConnInfo may come after Setup', async () => {
    const h = await host();
    const setup = h.backend('Setup', { broker_id: 7, Config: {}, backendUUID: '' });
    await new Promise((r) => setTimeout(r, 300));
    h.announceStorage(7);
    expect(await setup).toEqual({ err: '' });
  });

  it('exits when the host is gone (broker stream ends), and on SIGTERM, removing its socket', async () => {
    const a = await host();
    await setUp(a); // the stream is surely open: the ConnInfo came over it
    a.endBrokerStream();
    expect(await a.plugin.exited).toBe(0);
    expect(existsSync(a.handshake.socketPath)).toBe(false);
    const b = await host();
    b.plugin.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.plugin.child.exitCode).toBeNull();
    b.plugin.child.kill('SIGTERM');
    expect(await b.plugin.exited).toBe(0);
    expect(existsSync(b.handshake.socketPath)).toBe(false);
  });
});

describe('refusals at start', () => {
  it('a wrong magic cookie exits 1 with a message on stderr and nothing on stdout', async () => {
    const { certPem } = await createLocalhostCertificate();
    const p = spawnPlugin(exe, launchEnv(certPem, { VAULT_BACKEND_PLUGIN: 'not-the-cookie' }));
    expect(await p.exited).toBe(1);
    expect(p.stdout()).toBe('');
    expect(p.stderr()).toContain('not meant to be run by hand');
  });

  it('PLUGIN_PROTOCOL_VERSIONS=3,4 prints one diagnostic line on stdout and exits 1', async () => {
    const { certPem } = await createLocalhostCertificate();
    const p = spawnPlugin(exe, launchEnv(certPem, { PLUGIN_PROTOCOL_VERSIONS: '3,4' }));
    expect(await p.exited).toBe(1);
    expect(p.stdout()).toBe('flant_gitops: needs plugin protocol 5 with AutoMTLS, got 3,4\n');
    expect(() => parseHandshake(p.stdout())).toThrow();
    stderrs.push(p.stderr());
  });

  it('the handshake comes only after the socket is bound', async () => {
    const { certPem } = await createLocalhostCertificate();
    const p = spawnPlugin(exe, launchEnv(certPem));
    const line = await firstLine(p);
    expect(existsSync(parseHandshake(line).socketPath)).toBe(true);
    p.child.kill('SIGTERM');
    await p.exited;
    stderrs.push(p.stderr());
  });
});

describe('stderr', () => {
  it('every line of every plugin process is hclog JSON with string @level, @message and a 6-digit @timestamp', async () => {
    for (const h of hosts) {
      if (h.plugin.child.exitCode === null) h.plugin.child.kill('SIGTERM');
      await h.plugin.exited;
      stderrs.push(h.plugin.stderr());
    }
    const lines = stderrs
      .join('')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) {
      const o = JSON.parse(l) as Record<string, unknown>;
      expect(typeof o['@level']).toBe('string');
      expect(typeof o['@message']).toBe('string');
      expect(o['@timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
  });
});
