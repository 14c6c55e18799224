/**
 * The whole product inside OpenBao: the built plugin served by the bench's real OpenBao, which
 * also plays the target Vault; real git, gpg and Docker. A signed commit is polled through
 * `bao write flant_gitops/poll` and, after another push, through a signed webhook to the
 * plugin's own listener; signatures are counted, the wrapped request made, the container unwraps
 * and prints the secret, and status / last_successful_commit / task/<id>/log show it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { waitFor } from '../helpers/net.js';
import { startPluginBao, type PluginBao } from '../helpers/plugin-bao.js';
import {
  containersOfTask,
  prepareScenario,
  readData,
  taskIds,
  taskLog,
  waitForDeployed,
  type Scenario,
} from '../helpers/plugin-scenario.js';

const MOUNT = 'flant_gitops';
const exe = inject('pluginExecutable');
const image = inject('testImage');
let b: PluginBao;
let scenario: Scenario;
let hookPort: number;
const hookSecret = randomBytes(16).toString('hex');

/** The log of the task that deployed `commit`. */
async function logOfCommit(commit: string): Promise<{ id: string; log: string }> {
  for (const id of await taskIds(b, MOUNT)) {
    const t = await readData(b, `${MOUNT}/task/${id}`);
    if (t.commit === commit && t.status === 'SUCCEEDED')
      return { id, log: await taskLog(b, MOUNT, id) };
  }
  throw new Error(`no SUCCEEDED task deployed ${commit}`);
}

beforeAll(async () => {
  b = await startPluginBao(exe);
  // Port 0: the plugin's listener binds a free port and logs the address it got.
  await b.must([
    'secrets',
    'enable',
    `-path=${MOUNT}`,
    '-options=webhook_listen=127.0.0.1:0',
    'flant_gitops',
  ]);
  await waitFor('the plugin to log its webhook address', async () => {
    const line = readFileSync(b.pluginLogFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"@message":"webhook listener started"'));
    const address = line ? (JSON.parse(line) as { address?: string }).address : undefined;
    hookPort = address ? Number(new URL(address).port) : 0;
    return hookPort > 0;
  });
  scenario = await prepareScenario(b, image);
  await scenario.configureMount(MOUNT, ['sh ./deploy.sh']);
  await b.must([
    'write',
    `${MOUNT}/configure/webhook/ci`,
    'source=generic',
    `secret=${hookSecret}`,
  ]);
});

afterAll(async () => {
  await b?.stop();
  await scenario?.cleanup();
});

describe('end to end through OpenBao and the plugin', () => {
  it('bao write flant_gitops/poll deploys a signed commit: signatures counted, secret unwrapped', async () => {
    const tip = (await git(scenario.repo.origin, ['rev-parse', 'main'])).toString().trim();
    await b.must(['write', '-f', `${MOUNT}/poll`]);
    await waitForDeployed(b, MOUNT, tip);
    const { id, log } = await logOfCommit(tip);
    expect(log).toContain('message: first deployment');
    expect(log).toMatch(/signed by [0-9A-F]{40} \(1 of 1 required\)/);
    expect(log).toMatch(
      /vault request get-secret: wrapped token in VAULT_REQUEST_TOKEN_GET_SECRET/,
    );
    expect(log).toContain(`commit=${tip} branch=main`);
    expect(log).toContain(scenario.secretValue);
    expect(await b.must(['read', '-field=last_successful_commit', `${MOUNT}/status`])).toBe(tip);
    expect(await b.must(['read', '-field=commit', `${MOUNT}/last_successful_commit`])).toBe(tip);
    expect(containersOfTask(id)).toEqual([]);
  });

  it('a signed webhook to the plugin listener makes the next commit run', async () => {
    const tip = await scenario.signedCommit('second deployment\n');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: tip });
    const sig = createHmac('sha256', hookSecret).update(body).digest('hex');
    // The path the API reports is the one the plugin's own listener serves.
    const hookPath = await b.must(['read', '-field=hook_path', `${MOUNT}/configure/webhook/ci`]);
    const url = `http://127.0.0.1:${hookPort}${hookPath}`;
    // A wrong signature is refused before anything is enqueued.
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${'0'.repeat(64)}` },
      body,
    });
    expect(bad.status).toBe(403);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${sig}` },
      body,
    });
    expect(res.status).toBe(202);
    await waitForDeployed(b, MOUNT, tip);
    const { log } = await logOfCommit(tip);
    expect(log).toContain('message: second deployment');
    expect(log).toContain(scenario.secretValue);
    // The trigger names the webhook, not a requested poll.
    const triggers = await Promise.all(
      (await taskIds(b, MOUNT)).map(
        async (id) => (await readData(b, `${MOUNT}/task/${id}`)).trigger,
      ),
    );
    expect(triggers).toContain('webhook ci: generic');
  });

  it('no secret value reaches the plugin log or OpenBao log', async () => {
    const logs = readFileSync(b.pluginLogFile, 'utf8') + readFileSync(b.logFile, 'utf8');
    expect(logs).toContain('background work started');
    expect(logs).not.toContain(scenario.secretValue);
    expect(logs).not.toContain(hookSecret);
  });
});
