/**
 * Comments tell the truth about where things are: references to a document point to one in the
 * repository (docs/compat.md, by section name), no comment cites a "spec §N" that is not here or
 * a path outside the repository, and the composition root is named where it is.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const SOURCES = ['src', 'test', 'bench', 'scripts'].flatMap((d) =>
  files(join(ROOT, d)).map((path) => ({
    file: relative(ROOT, path),
    text: readFileSync(path, 'utf8'),
  })),
);
const COMPAT = readFileSync(join(ROOT, 'docs/compat.md'), 'utf8');
const SECTIONS = new Set([...COMPAT.matchAll(/^## (.+)$/gm)].map((m) => m[1]));

describe('document references in code', () => {
  it('cite no "spec §N" and no path outside the repository', () => {
    const bad = SOURCES.filter(
      (s) => s.file !== 'test/unit/docs-references.test.ts' && /spec §\d|\/work\//.test(s.text),
    ).map((s) => s.file);
    expect(bad).toEqual([]);
  });

  it('name sections that docs/compat.md has', () => {
    const cited = SOURCES.flatMap((s) =>
      [...s.text.matchAll(/docs\/compat\.md, "([^"]+)"/g)].map((m) => ({
        file: s.file,
        section: (m[1] ?? '').replace(/\s*\n\s*\*?\s*/g, ' '),
      })),
    );
    expect(cited.length).toBeGreaterThan(3);
    for (const c of cited) expect(SECTIONS, `${c.file}: ${c.section}`).toContain(c.section);
  });

  it('name src/service.ts, not main.ts, as the composition root', () => {
    const main = SOURCES.find((s) => s.file === 'src/main.ts')?.text ?? '';
    expect(main).not.toMatch(/one composition root/);
    const claims = SOURCES.filter((s) =>
      /main\.ts (wires|builds|composes|calls `listen`)/.test(s.text),
    );
    expect(claims.map((s) => s.file)).toEqual([]);
  });
});
