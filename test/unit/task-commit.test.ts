/**
 * A running task shows its commit from the moment the run knows it (issue 15, defect 7): an
 * operator who reads `task/<uuid>` while the commands run sees which commit is being deployed,
 * not an empty field until the end.
 */
import { describe, expect, it } from 'vitest';
import { listTasks } from '../../src/tasks/task-record.js';
import type { StoredTask } from '../../src/tasks/task-record.js';
import { benchesPerTest, C2, onlyTask, world } from './pipeline-fakes.js';

const open = benchesPerTest();

describe('a running task', () => {
  it('shows the tip as its commit while its commands run', async () => {
    const seen: StoredTask[] = [];
    const w = world({ remote: { branch: C2 } });
    const b = await open(w);
    w.run = async () => {
      seen.push(...(await listTasks(b.store)));
      return { outcome: 'succeeded' };
    };
    await b.runtime.poll('periodic');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ status: 'RUNNING', commit: C2 });
    expect(await onlyTask(b)).toMatchObject({ status: 'SUCCEEDED', commit: C2 });
  });
});
