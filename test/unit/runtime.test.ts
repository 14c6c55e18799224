/**
 * The runtime is the supported Node.js LTS (24): the test runner itself, any `node` a test or
 * script starts by name (scripts/node-env.sh puts the provisioned Node 24 first on PATH), and what
 * package.json promises. The machine's own, older node must not be the one that runs the suite.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const major = (version: string): number => Number(/^v?(\d+)\./.exec(version)?.[1]);

describe('runtime', () => {
  it('the tests run on Node.js 24', () => {
    expect(major(process.versions.node)).toBe(24);
  });

  it('a `node` started by name is Node.js 24 too', () => {
    const r = spawnSync('node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(major(r.stdout.trim())).toBe(24);
  });

  it('package.json asks for Node.js 24 and its types', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
  });
});
