/**
 * Who may touch stored settings and poll records, checked on the source itself: raw typed reads
 * (`store.get<…>`) only in the owners, no regular expression over storage key names, and the
 * summariser as the only writer of task status and poll state.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const FILES = sources(join(ROOT, 'src')).map((path) => ({
  file: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}));

/** Files whose lines match `pattern`. */
const filesMatching = (pattern: RegExp): string[] =>
  FILES.filter((f) => pattern.test(f.text)).map((f) => f.file);

describe('ownership of stored settings and poll records', () => {
  it('scans the whole source tree', () => {
    expect(FILES.length).toBeGreaterThan(50);
  });

  it('typed raw reads happen only in the owners (settings, tasks, poll state, storage)', () => {
    const owners = (f: string) =>
      f === 'src/config/mount-settings.ts' ||
      f === 'src/pipeline/poll-state.ts' ||
      f.startsWith('src/tasks/') ||
      f.startsWith('src/storage/');
    expect(filesMatching(/\.get<[^>]+>\(/).filter((f) => !owners(f))).toEqual([]);
  });

  it('settings keys are used only by the settings owner', () => {
    const settingKeys =
      /StorageKeys\.(configuration|vaultRequest|trustedKey|trustedSshKey|gitCredential|gitSshKey|vaultAccess|taskConfiguration|containerSettings|webhook)\b/;
    expect(filesMatching(settingKeys)).toEqual(['src/config/mount-settings.ts']);
  });

  it('no regular expression is matched against storage key names', () => {
    expect(filesMatching(/\/\^mounts\\\/|RegExp\([^)]*mounts/)).toEqual([]);
    expect(filesMatching(/observeWebhookWrites/)).toEqual([]);
  });

  it('the summariser is the only writer of poll state and the only one to finish tasks', () => {
    expect(filesMatching(/StorageKeys\.pollState/).sort()).toEqual([
      'src/pipeline/poll-state.ts',
      'src/pipeline/summarise.ts',
    ]);
    expect(filesMatching(/\bwritePollState\(/)).toEqual(['src/pipeline/summarise.ts']);
    const finishers = filesMatching(/\.finish\(/).filter((f) => f !== 'src/tasks/task-manager.ts');
    expect(finishers).toEqual(['src/pipeline/summarise.ts']);
  });
});
