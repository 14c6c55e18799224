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
    const { DOCKER_GID: _unset, ...env } = process.env;
    const r = spawnSync('docker-compose', ['-f', `${root}docker-compose.yml`, 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...env, COMPOSE_INTERACTIVE_NO_CLI: '1' },
    });
    if (r.error) {
      throw new Error(
        `docker-compose is not installed (scripts/provision.sh installs it): ${r.error.message}`,
      );
    }
    expect(r.stderr + r.stdout, 'docker-compose config -q refused the file').toBe('');
    expect(r.status).toBe(0);
  });

  it('needs no DOCKER_GID and no hand-made data dir (the image prepares both)', () => {
    const text = readFileSync(`${root}docker-compose.yml`, 'utf8');
    expect(text).not.toMatch(/group_add|DOCKER_GID/);
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

  it('runs the service as a non-root user: USER, or an entry point that drops to `node`', () => {
    const user = final?.body
      .filter((i) => i.keyword === 'USER')
      .at(-1)
      ?.args.trim();
    if (user !== undefined) {
      expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
      return;
    }
    // Started as root only to prepare the data dir and the socket's group (docker/entrypoint.sh);
    // the image test checks the service process's uid for real.
    const entry = final?.body.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '';
    expect(entry).toContain('/usr/local/bin/flant-gitops-entrypoint');
    const script = readFileSync(`${root}docker/entrypoint.sh`, 'utf8');
    expect(script).toMatch(/exec setpriv --reuid="\$uid" --regid="\$gid" .*--no-new-privs/s);
  });

  it('declares a HEALTHCHECK that probes readiness at the configured address', () => {
    const hc = final?.body.find((i) => i.keyword === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/\bCMD\b/);
    // Not /healthz at a fixed 127.0.0.1:8080 (issue 20): dist/healthcheck.js reads /readyz at
    // FLANT_GITOPS_LISTEN.
    expect(hc?.args).toContain('/app/dist/healthcheck.js');
    expect(hc?.args).not.toMatch(/127\.0\.0\.1|8080|healthz/);
  });

  it('has no `# syntax=` directive (BuildKit would fetch a frontend image: no air-gapped builds)', () => {
    const text = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(text).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('builds from an allow-list context: .dockerignore keeps .cache, data and node_modules out', () => {
    const lines = readFileSync(`${root}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.slice(1);
    for (const l of allowed) expect(l.startsWith('!')).toBe(true);
    for (const never of ['.cache', 'data', 'node_modules', 'dist', '.git'])
      expect(allowed.some((l) => l === `!${never}` || l.startsWith(`!${never}/`))).toBe(false);
    // Every COPY source of the build context is allowed.
    for (const ins of instructions.filter(
      (i) => i.keyword === 'COPY' && !i.args.includes('--from'),
    )) {
      const sources = ins.args.split(/\s+/).slice(0, -1);
      for (const src of sources) {
        const path = src.replace(/^\.\//, '').replace(/\/$/, '');
        expect(
          allowed.some((l) => l === `!${path}` || l === `!${path}/`),
          `COPY ${src} (line ${ins.line}) is not in .dockerignore's allow-list`,
        ).toBe(true);
      }
    }
  });

  it('the reader rejects what the rules forbid', () => {
    const bad = stages(parseDockerfile('ARG B=node:20\nFROM ${B} AS a\nFROM a\nUSER root\n'));
    expect(bad.map((s) => s.image)).toEqual(['node:20', 'a']);
    expect(bad.some((s) => /@sha256:[0-9a-f]{64}$/.test(s.image))).toBe(false);
  });
});
