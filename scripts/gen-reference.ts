/**
 * Generates the README's reference blocks from the code, so the docs cannot drift from it:
 * the configuration reference from the path descriptors (`apiPaths`), the error table from
 * `ErrorCodes`, and the metrics table from `createMetrics()`. Each block lives between
 * `<!-- <block>:start -->` and `<!-- <block>:end -->` markers; everything else in the README is
 * left alone. `npm run docs` rewrites README.md; test/unit/reference.test.ts fails when the
 * committed README differs from what this renders now.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { helpMarkdown } from '../src/api/help.js';
import { apiPaths } from '../src/api/paths.js';
import type { PathDescriptor } from '../src/api/types.js';
import { ErrorCodes, type NextStep } from '../src/errors.js';
import { createMetrics } from '../src/metrics.js';

/** The generated blocks, by marker name. */
export const REFERENCE_BLOCKS = ['reference', 'error-codes', 'metrics'] as const;

/** One of `REFERENCE_BLOCKS`. */
export type ReferenceBlock = (typeof REFERENCE_BLOCKS)[number];

/**
 * A descriptor's pattern as a readable path: named captures become `<name>`, an optional
 * trailing slash is dropped (`task/(?<uuid>[0-9a-f]{8}-…)/log` → `task/<uuid>/log`).
 */
export function readablePath(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const named = /^\(\?<([A-Za-z_]\w*)>/.exec(pattern.slice(i));
    if (!named?.[1]) {
      out += pattern[i];
      continue;
    }
    let depth = 0;
    let j = i;
    for (; j < pattern.length; j++) {
      if (pattern[j] === '\\') j++;
      else if (pattern[j] === '(') depth++;
      else if (pattern[j] === ')' && --depth === 0) break;
    }
    out += `<${named[1]}>`;
    i = j;
  }
  return out.replace(/\/\?$/, '');
}

/** The configuration reference: one section per descriptor, in `apiPaths` order. */
export function renderReference(paths: readonly PathDescriptor[] = apiPaths): string {
  const index = paths.map((d) => {
    const p = readablePath(d.pattern);
    return `- [\`${p}\`](#${p.replace(/[^a-z0-9_-]/gi, '').toLowerCase()}) — ${d.synopsis}`;
  });
  const sections = paths.map((d) => helpMarkdown(d, readablePath(d.pattern)).trimEnd());
  return [
    'Paths below a mount (`<mount>/<path>`, e.g. `flant_gitops/configure`). Write-only fields',
    'are never returned by a read and never logged.',
    '',
    ...index,
    '',
    sections.join('\n\n'),
  ].join('\n');
}

const NEXT_STEP_TEXT: Readonly<Record<NextStep, string>> = {
  user: 'A person must act: fix the input, the configuration or the repository, then retry.',
  'retry-later': 'Transient: the next poll retries by itself; act if it persists.',
  'retry-now': 'Read the current state again and retry at once.',
};

/** The error table: code, HTTP status, meaning and what to do next. */
export function renderErrorCodes(): string {
  const rows = Object.entries(ErrorCodes).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.description} | ${NEXT_STEP_TEXT[e.next]} |`,
  );
  return [
    'Every error carries one of these stable codes (in task reasons, `status`, and logs); API',
    'errors use the listed HTTP status inside Vault\'s `{"errors": [...]}` envelope.',
    '',
    '| code | status | meaning | what to do next |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The metrics table: every series `createMetrics()` registers, with its labels. */
export function renderMetrics(): string {
  const metrics = createMetrics();
  const rows = Object.values(metrics)
    .filter((m) => m !== metrics.registry)
    .map((m) => {
      // prom-client keeps the constructor's labelNames on the instance; its types omit it.
      const { name, help, labelNames } = m as unknown as {
        name: string;
        help: string;
        labelNames?: readonly string[];
      };
      const type = m.constructor.name.toLowerCase();
      const labels = (labelNames ?? []).map((l) => `\`${l}\``).join(', ');
      return `| \`${name}\` | ${type} | ${labels} | ${help.replace(/\|/g, '\\|')} |`;
    });
  return ['| series | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Render one block. */
export function renderBlock(block: ReferenceBlock): string {
  switch (block) {
    case 'reference':
      return renderReference();
    case 'error-codes':
      return renderErrorCodes();
    case 'metrics':
      return renderMetrics();
  }
}

const markers = (block: ReferenceBlock) => ({
  start: `<!-- ${block}:start -->`,
  end: `<!-- ${block}:end -->`,
});

/** Where a block's text lies (between its markers, without the line breaks next to them). */
function locate(readme: string, block: ReferenceBlock): { from: number; to: number } | undefined {
  const m = markers(block);
  const a = readme.indexOf(m.start);
  const b = a < 0 ? -1 : readme.indexOf(m.end, a + m.start.length);
  if (a < 0 || b < 0) return undefined;
  return { from: a + m.start.length, to: b };
}

/** The text between a block's markers (undefined when the markers are missing). */
export function extractBlock(readme: string, block: ReferenceBlock): string | undefined {
  const at = locate(readme, block);
  return at && readme.slice(at.from, at.to).replace(/^\n/, '').replace(/\n$/, '');
}

/** The README with every block replaced by what the code renders now. */
export function updateReadme(readme: string): string {
  let out = readme;
  for (const block of REFERENCE_BLOCKS) {
    const at = locate(out, block);
    if (!at) {
      const m = markers(block);
      throw new Error(`README.md lacks the ${m.start} / ${m.end} markers`);
    }
    out = `${out.slice(0, at.from)}\n${renderBlock(block)}\n${out.slice(at.to)}`;
  }
  return out;
}

/** The README this repository ships. */
export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = await readFile(README_PATH, 'utf8');
  const after = updateReadme(before);
  if (after !== before) await writeFile(README_PATH, after);
  process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md updated\n');
}
