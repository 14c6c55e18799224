import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logging.js';
import { createDockerRunner } from '../../src/runner/docker.js';

let server: Server | undefined;
let dir: string | undefined;

/** An engine stand-in on a Unix socket answering GET /_ping with `status` and `body`. */
async function fakeEngine(
  status: number,
  body: string,
): Promise<{ socket: string; paths: string[] }> {
  dir = await mkdtemp(join(tmpdir(), 'fg-ping-'));
  const socket = join(dir, 'docker.sock');
  const paths: string[] = [];
  server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server?.listen(socket, r));
  return { socket, paths };
}

afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the engine ping (node:http, no Docker client library)', () => {
  it('resolves when the engine answers GET /_ping with 200', async () => {
    const { socket, paths } = await fakeEngine(200, 'OK');
    const runner = createDockerRunner({ logger: silentLogger(), socketPath: socket });
    await expect(runner.ping()).resolves.toBeUndefined();
    expect(paths).toEqual(['GET /_ping']);
  });

  it.each([
    [500, '{"message":"daemon is shutting down"}', 'daemon is shutting down'],
    [503, 'not ready yet', 'not ready yet'],
    [500, '', 'HTTP 500'],
  ])(
    'fails with RUNNER_FAILED carrying the status and message of a %i answer',
    async (status, body, message) => {
      const { socket } = await fakeEngine(status, body);
      const runner = createDockerRunner({ logger: silentLogger(), socketPath: socket });
      await expect(runner.ping()).rejects.toMatchObject({
        code: 'RUNNER_FAILED',
        reason: `Docker engine failed to answer a ping: ${message}`,
        details: { endpoint: socket, status },
      });
    },
  );
});
