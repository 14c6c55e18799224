/**
 * The CLI suite (test/helpers/api-cli-suite.ts) over the OpenBao plugin: the built executable,
 * registered by SHA-256 from a plugin directory holding only it, enabled at `flant_gitops` and
 * `flant-gitops` in the bench's real OpenBao; every request goes through OpenBao (its token,
 * ACL and audit) to the plugin and its storage in OpenBao's barrier.
 */
import { describe, expect, inject, it } from 'vitest';
import { cliSuite } from '../helpers/api-cli-suite.js';
import { bao } from '../helpers/openbao.js';
import { startPluginOpenBao, type PluginOpenBao } from '../helpers/plugin-openbao.js';

const exe = inject('pluginExecutable');
let ob: PluginOpenBao;

cliSuite(async () => {
  ob = await startPluginOpenBao(exe, ['flant_gitops', 'flant-gitops']);
  return { target: { addr: ob.addr, token: ob.token }, stop: () => ob.stop() };
});

describe('paths that need the background work', () => {
  it('poll and task cancel answer a clear 400 until the plugin runs a pipeline', async () => {
    for (const args of [
      ['write', '-f', 'flant_gitops/poll'],
      ['write', '-f', 'flant_gitops/task/0b6f0c43-4f8e-4c3b-9a59-3f1f1d0c8a11/cancel'],
    ]) {
      const r = await bao(ob, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Code: 400');
      expect(r.stderr).toContain('runs no pipeline yet');
    }
  });
});
