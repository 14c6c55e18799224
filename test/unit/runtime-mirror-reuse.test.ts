/**
 * A poll reuses the mirror the previous poll opened while the directory and remote stay the same
 * (an open checks the directory and costs a round trip to the git host); it opens afresh after a
 * configuration change, after a failed poll, at start, and when the kept mirror's first call
 * fails and its directory is gone (a mirror removed between polls costs no failed poll).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageKeys } from '../../src/config/stored.js';
import { PERIODIC } from '../../src/scheduler/scheduler.js';
import { benchesPerTest, C2, C3, config, world } from './pipeline-fakes.js';

const open = benchesPerTest();
const URL0 = config().git_repo_url;

describe('the mirror across polls', () => {
  it('is opened once for polls of an unchanged remote', async () => {
    const w = world();
    const { runtime } = await open(w);
    expect(await runtime.poll(PERIODIC)).toBe('deployed');
    expect(await runtime.poll(PERIODIC)).toBe('up-to-date');
    expect(await runtime.poll('api')).toBe('up-to-date');
    expect(w.opens).toEqual([`${URL0}#main`]);
    expect(w.calls.filter((c) => c === 'lsRemote')).toHaveLength(3);
  });

  it('is opened again when the branch or URL changes', async () => {
    const w = world();
    const { runtime, store } = await open(w);
    await runtime.poll(PERIODIC);
    await store.put(StorageKeys.configuration, config({ git_branch_name: 'release' }));
    await runtime.poll('api');
    await store.put(
      StorageKeys.configuration,
      config({ git_branch_name: 'release', git_repo_url: 'https://git.example.test/other.git' }),
    );
    await runtime.poll('api');
    await runtime.poll('api');
    expect(w.opens).toEqual([
      `${URL0}#main`,
      `${URL0}#release`,
      'https://git.example.test/other.git#release',
    ]);
  });

  it('is opened again after a failed poll and after a start', async () => {
    const w = world({ run: async () => ({ outcome: 'failed', commandIndex: 0, exitCode: 1 }) });
    const { runtime } = await open(w);
    expect(await runtime.poll(PERIODIC)).toBe('failed');
    w.run = async () => ({ outcome: 'succeeded' });
    expect(await runtime.poll('api')).toBe('deployed');
    await runtime.start();
    w.remote = { branch: C3 };
    expect(await runtime.poll('api')).toBe('deployed');
    expect(w.opens).toHaveLength(3);
  });

  it('is opened afresh, and the call made again, when the kept one fails and its dir is gone', async () => {
    const w = world();
    const { runtime } = await open(w);
    expect(await runtime.poll(PERIODIC)).toBe('deployed');
    w.lsRemoteFailures = 1;
    expect(await runtime.poll(PERIODIC)).toBe('up-to-date');
    expect(w.opens).toHaveLength(2);
    expect(w.calls.filter((c) => c === 'lsRemote')).toHaveLength(3);
    // A freshly opened mirror's failure is the poll's: no second try.
    w.lsRemoteFailures = 2;
    await runtime.start();
    expect(await runtime.poll(PERIODIC)).toBe('failed');
    expect(w.opens).toHaveLength(3);
    expect(w.remote).toEqual({ branch: C2 });
  });

  it("leaves a kept mirror's failure to the poll while its directory is there (a remote error)", async () => {
    const w = world();
    const { runtime } = await open(w);
    expect(await runtime.poll(PERIODIC)).toBe('deployed');
    const dir = w.mirrorDirs[0] ?? '';
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'HEAD'), 'ref: refs/heads/main\n');
    w.lsRemoteFailures = 1;
    expect(await runtime.poll(PERIODIC)).toBe('failed');
    expect(w.opens).toHaveLength(1);
    // The failed poll dropped it: the next one opens it again.
    expect(await runtime.poll(PERIODIC)).toBe('up-to-date');
    expect(w.opens).toHaveLength(2);
  });
});
