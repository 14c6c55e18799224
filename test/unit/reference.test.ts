/**
 * The README's generated blocks are what the code renders now (a changed descriptor, error code
 * or metric without `npm run docs` fails here), and the reference names every path and field the
 * service serves.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { apiPaths } from '../../src/api/paths.js';
import { ErrorCodes } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import {
  README_PATH,
  REFERENCE_BLOCKS,
  extractBlock,
  readablePath,
  renderBlock,
  renderErrorCodes,
  renderMetrics,
  renderReference,
  updateReadme,
} from '../../scripts/gen-reference.js';

const readme = await readFile(README_PATH, 'utf8');

describe('README reference blocks', () => {
  it.each(REFERENCE_BLOCKS)('the %s block equals what `npm run docs` renders now', (block) => {
    const current = extractBlock(readme, block);
    expect(current, `README.md lacks the ${block} markers`).toBeDefined();
    expect(current, 'README.md is stale: run `npm run docs`').toBe(renderBlock(block));
  });

  it('regenerating an up-to-date README changes nothing', () => {
    expect(updateReadme(readme)).toBe(readme);
  });

  it('regenerating replaces only the text between the markers', () => {
    const stale = '# T\n\nbefore\n<!-- reference:start -->\nold\n<!-- reference:end -->\nafter\n';
    const withAll = `${stale}<!-- error-codes:start --><!-- error-codes:end -->\n<!-- metrics:start -->\n<!-- metrics:end -->\n`;
    const out = updateReadme(withAll);
    expect(out.startsWith('# T\n\nbefore\n<!-- reference:start -->\n')).toBe(true);
    expect(out).not.toContain('\nold\n');
    expect(out).toContain(`\n${renderReference()}\n<!-- reference:end -->\nafter\n`);
    expect(updateReadme(out)).toBe(out);
  });

  it('refuses a README without the markers', () => {
    expect(() => updateReadme('# no markers\n')).toThrow(/reference:start/);
  });
});

describe('the configuration reference', () => {
  const reference = renderReference();

  it.each([
    ['configure', 'configure'],
    ['configure/vault_request/?', 'configure/vault_request'],
    ['configure/webhook/(?<name>[^/]+)', 'configure/webhook/<name>'],
    ['task/(?<uuid>[0-9a-f]{8}-[0-9a-f]{4})/log', 'task/<uuid>/log'],
    ['a/(?<x>(b|c)+)/d', 'a/<x>/d'],
  ])('shows the pattern %s as %s', (pattern, readable) => {
    expect(readablePath(pattern)).toBe(readable);
  });

  it('has a section for every path the service serves, with its synopsis and operations', () => {
    for (const d of apiPaths) {
      const section = `### \`${readablePath(d.pattern)}\``;
      expect(reference, d.pattern).toContain(section);
      expect(reference).toContain(d.synopsis);
      expect(reference).toContain(d.description);
    }
    expect(reference.match(/^### /gm)).toHaveLength(apiPaths.length);
  });

  it('lists every field with its type, default, required and write-only flags', () => {
    for (const d of apiPaths) {
      const start = reference.indexOf(`### \`${readablePath(d.pattern)}\``);
      const next = reference.indexOf('\n### ', start + 1);
      const section = reference.slice(start, next < 0 ? undefined : next);
      for (const [name, spec] of Object.entries(d.fields)) {
        const row = section.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
        expect(row, `${d.pattern}: ${name}`).toBeDefined();
        const cells = (row ?? '').split(/(?<!\\)\|/).map((c) => c.trim());
        expect(cells[2]).toBe(spec.type);
        if (spec.default !== undefined) expect(cells[3]).not.toBe('');
        expect(cells[4]).toBe(spec.required ? 'yes' : '');
        expect(cells[5]).toBe(spec.sensitive ? 'yes' : '');
      }
    }
  });
});

describe('the error and metrics tables', () => {
  it('list every error code with its HTTP status and description', () => {
    const table = renderErrorCodes();
    for (const [code, e] of Object.entries(ErrorCodes)) {
      expect(table).toContain(`| \`${code}\` | ${e.status} | ${e.description} |`);
    }
  });

  it('list every series with its labels', () => {
    const table = renderMetrics();
    const names = createMetrics()
      .registry.getMetricsAsArray()
      .map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(table).toContain(`| \`${name}\` |`);
    expect(table).toContain(
      '| `flant_gitops_webhook_forwards_total` | counter | `backend`, `outcome` |',
    );
  });
});
