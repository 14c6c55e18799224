/**
 * Help text from a descriptor: what `bao path-help <mount>/<path>` shows (`?help=1`), and the
 * per-path section of the generated README reference, from the same source so they never differ.
 */
import type { FieldSpec, Operation, PathDescriptor } from './types.js';

const OPERATION_VERBS: Readonly<Record<Operation, string>> = {
  read: 'read',
  list: 'list',
  update: 'write',
  delete: 'delete',
};

function formatDefault(v: unknown): string {
  return typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v);
}

/** One line describing a field's type, default and flags. */
export function fieldSummary(name: string, spec: FieldSpec): string {
  const parts: string[] = [spec.type];
  if (spec.required) parts.push('required');
  if (spec.default !== undefined) parts.push(`default ${formatDefault(spec.default)}`);
  if (spec.sensitive) parts.push('write-only');
  return `${name} (${parts.join(', ')})`;
}

/** The operations a descriptor supports, as CLI verbs (read, list, write, delete). */
export function operationVerbs(d: PathDescriptor): string[] {
  return (Object.keys(d.operations) as Operation[]).map((op) => OPERATION_VERBS[op]);
}

/** Plain-text help for one path, in the layout of Vault's path-help. */
export function helpText(d: PathDescriptor, requestPath?: string): string {
  const lines: string[] = [];
  if (requestPath !== undefined) lines.push(`Request:        ${requestPath}`);
  lines.push(`Matching Route: ^${d.pattern}$`, '', d.synopsis, '');
  lines.push(`Operations: ${operationVerbs(d).join(', ')}`, '');
  const names = Object.keys(d.fields);
  if (names.length > 0) {
    lines.push('## PARAMETERS', '');
    for (const name of names) {
      const spec = d.fields[name];
      if (!spec) continue;
      lines.push(`    ${fieldSummary(name, spec)}`, `        ${spec.description}`, '');
    }
  }
  lines.push('## DESCRIPTION', '', d.description);
  return lines.join('\n');
}

/** Text safe inside one Markdown table cell (no pipes, no line breaks). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/**
 * A Markdown section for one path (for the README reference generator): synopsis, operations,
 * description and a table of fields with type, default, whether required, whether write-only.
 */
export function helpMarkdown(d: PathDescriptor, title: string): string {
  const rows = Object.entries(d.fields).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.type} | ${spec.default === undefined ? '' : `\`${cell(formatDefault(spec.default))}\``} | ${spec.required ? 'yes' : ''} | ${spec.sensitive ? 'yes' : ''} | ${cell(spec.description)} |`,
  );
  return [
    `### \`${title}\``,
    '',
    `${d.synopsis} Operations: ${operationVerbs(d).join(', ')}.`,
    '',
    d.description,
    '',
    ...(rows.length > 0
      ? [
          '| field | type | default | required | write-only | description |',
          '|---|---|---|---|---|---|',
          ...rows,
          '',
        ]
      : []),
  ].join('\n');
}
