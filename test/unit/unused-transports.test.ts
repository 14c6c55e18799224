import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipUnusedTransports } from '../../src/runner/unused-transports.js';
import { ROOT } from '../helpers/bench.js';

/** `require` as seen from a file inside `pkg` (node_modules/<pkg>/lib/x.js). */
const requireFrom = (pkg: string) => createRequire(join(ROOT, 'node_modules', pkg, 'lib', 'x.js'));

describe("dockerode's unused transports", () => {
  skipUnusedTransports();
  skipUnusedTransports(); // idempotent

  it("answers docker-modem's ssh2 with a stand-in whose client fails, naming why", () => {
    const ssh2 = requireFrom('docker-modem')('ssh2') as { Client: new () => unknown };
    expect(() => new ssh2.Client()).toThrow(
      /SSH and BuildKit transports are not loaded: .*local Unix socket only/,
    );
  });

  it("answers dockerode's gRPC packages with stand-ins that fail on use", () => {
    const grpc = requireFrom('dockerode')('@grpc/grpc-js') as { Server: unknown };
    expect(() => grpc.Server).toThrow(/transports are not loaded/);
    const loader = requireFrom('dockerode')('@grpc/proto-loader') as { loadSync: unknown };
    expect(() => loader.loadSync).toThrow(/transports are not loaded/);
  });

  it('leaves every other require of those packages alone (the plugin serves gRPC)', () => {
    const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as { Server: unknown };
    expect(typeof grpc.Server).toBe('function');
  });

  it('dockerode still loads and builds a client', async () => {
    const Docker = (await import('dockerode')).default;
    const client = new Docker({ socketPath: join(ROOT, 'no-such.sock') });
    expect(typeof client.listContainers).toBe('function');
  });
});
