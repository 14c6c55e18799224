/**
 * The shipped docker-compose.yml and Dockerfile are valid: `docker-compose config -q` accepts the
 * compose file (no engine, no network needed), and a small Dockerfile reader checks the rules of
 * our image — known instructions, every base pinned by digest, multi-stage, a non-root user and a
 * HEALTHCHECK in the final stage.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

const KNOWN = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'MAINTAINER',
]);

/** One instruction of a Dockerfile, continuation lines joined. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Split a Dockerfile into instructions (comments and directives dropped, `\` lines joined). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') startLine = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m?.[1]) out.push({ keyword: m[1].toUpperCase(), args: m[2] ?? '', line: startLine });
  });
  expect(pending, 'the Dockerfile ends inside a continued line').toBe('');
  return out;
}

/** Replace `${NAME}` / `$NAME` with the ARG defaults declared so far. */
function expand(value: string, args: ReadonlyMap<string, string>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string, b: string) => {
    return args.get(a ?? b) ?? whole;
  });
}

/** Stages: each FROM's image (ARGs expanded) and the instructions below it. */
function stages(instructions: readonly Instruction[]) {
  const args = new Map<string, string>();
  const list: { image: string; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && list.length === 0) {
      const [name, ...rest] = ins.args.split('=');
      if (name) args.set(name.trim(), rest.join('='));
    } else if (ins.keyword === 'FROM') {
      const image = expand(ins.args.replace(/--platform=\S+\s+/, '').split(/\s+/)[0] ?? '', args);
      list.push({ image, body: [] });
    } else {
      list.at(-1)?.body.push(ins);
    }
  }
  return list;
}

describe('docker-compose.yml', () => {
  it('is accepted by `docker-compose config -q`', () => {
    const r = spawnSync('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, COMPOSE_INTERACTIVE_NO_CLI: '1' },
    });
    if (r.error) {
      throw new Error(
        `docker-compose is not installed (scripts/provision.sh installs it): ${r.error.message}`,
      );
    }
    expect(r.stderr + r.stdout, 'docker-compose config -q refused the file').toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(`${root}Dockerfile`, 'utf8'));
  const built = stages(instructions);
  const final = built.at(-1);

  it('uses only known instructions', () => {
    for (const ins of instructions)
      expect(KNOWN.has(ins.keyword), `line ${ins.line}: ${ins.keyword}`).toBe(true);
  });

  it('is multi-stage, every base image pinned by digest', () => {
    expect(built.length).toBeGreaterThanOrEqual(2);
    for (const s of built) expect(s.image).toMatch(/^[^\s$]+@sha256:[0-9a-f]{64}$/);
  });

  it('runs the final stage as a non-root user', () => {
    const user = final?.body
      .filter((i) => i.keyword === 'USER')
      .at(-1)
      ?.args.trim();
    expect(user, 'the final stage has no USER').toBeDefined();
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('declares a HEALTHCHECK in the final stage', () => {
    const hc = final?.body.find((i) => i.keyword === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/\bCMD\b/);
  });

  it('the reader rejects what the rules forbid', () => {
    const bad = stages(parseDockerfile('ARG B=node:20\nFROM ${B} AS a\nFROM a\nUSER root\n'));
    expect(bad.map((s) => s.image)).toEqual(['node:20', 'a']);
    expect(bad.some((s) => /@sha256:[0-9a-f]{64}$/.test(s.image))).toBe(false);
  });
});
