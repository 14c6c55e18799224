/**
 * Part of the CLI suite (api-cli-suite.ts): path-help on the pipeline and webhook paths, and
 * write/read/list/delete of the state paths, through the real `bao` CLI on either transport.
 */
import { expect, it } from 'vitest';
import { bao } from './openbao.js';

/** Register the cases; `target` is where `flant_gitops` is served, with its token. */
export function cliStatePathsSuite(target: () => { addr: string; token: string }): void {
  async function ours(args: string[]): Promise<string> {
    const r = await bao(target(), args);
    if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  }
  const readJson = async (path: string) =>
    JSON.parse(await ours(['read', '-format=json', path])) as { data: Record<string, unknown> };

  it.each([
    'poll',
    'status',
    'last_successful_commit',
    'task',
    'task/configure',
    'task/0b6f0c43-4f8e-4c3b-9a59-3f1f1d0c8a11',
    'task/0b6f0c43-4f8e-4c3b-9a59-3f1f1d0c8a11/log',
    'task/0b6f0c43-4f8e-4c3b-9a59-3f1f1d0c8a11/cancel',
    'configure/webhook',
    'configure/webhook/github',
  ])('bao path-help flant_gitops/%s shows the synopsis', async (path) => {
    const out = await ours(['path-help', `flant_gitops/${path}`]);
    expect(out).toContain('Matching Route');
    expect(out).toContain('## DESCRIPTION');
  });

  it('state paths: status, last_successful_commit, task settings and list, webhooks', async () => {
    expect((await readJson('flant_gitops/status')).data).toMatchObject({ configured: false });
    const commit = 'c'.repeat(40);
    await ours(['write', 'flant_gitops/last_successful_commit', `commit=${commit}`]);
    expect((await readJson('flant_gitops/last_successful_commit')).data).toMatchObject({
      commit,
    });
    const bad = await bao(target(), ['write', 'flant_gitops/last_successful_commit', 'commit=abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('commit: must be a 40- or 64-hex commit id');
    await ours(['delete', 'flant_gitops/last_successful_commit']);
    expect((await bao(target(), ['read', 'flant_gitops/last_successful_commit'])).code).toBe(2);

    await ours([
      'write',
      'flant_gitops/task/configure',
      'task_timeout=10m',
      'task_history_limit=3',
    ]);
    expect((await readJson('flant_gitops/task/configure')).data).toEqual({
      task_timeout: 600,
      task_history_limit: 3,
    });
    expect((await bao(target(), ['list', 'flant_gitops/task'])).code).toBe(2);
    expect(
      (await bao(target(), ['read', 'flant_gitops/task/0b6f0c43-4f8e-4c3b-9a59-3f1f1d0c8a11']))
        .code,
    ).toBe(2);

    await ours([
      'write',
      'flant_gitops/configure/webhook/github',
      'source=github',
      'secret=webhook-secret-cli-5521',
    ]);
    expect(
      JSON.parse(await ours(['list', '-format=json', 'flant_gitops/configure/webhook'])),
    ).toEqual(['github']);
    const hook = await ours(['read', '-format=json', 'flant_gitops/configure/webhook/github']);
    expect(hook).not.toContain('webhook-secret-cli-5521');
    expect(JSON.parse(hook).data).toMatchObject({ name: 'github', source: 'github' });
    await ours(['delete', 'flant_gitops/configure/webhook/github']);
    expect((await bao(target(), ['read', 'flant_gitops/configure/webhook/github'])).code).toBe(2);
  });
}
