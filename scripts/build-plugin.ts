/**
 * `make plugin`: bundle src/plugin/main.ts with esbuild into ONE executable file,
 * dist/plugin/flant_gitops (node shebang, mode 0755), and print its SHA-256 — the value
 * `bao plugin register -sha256=…` needs. One file because OpenBao hashes only the file it runs
 * and the plugin directory may hold nothing else.
 *
 * Node loads an extension-less file as CommonJS outside any package.json but as an ES module
 * below a `"type": "module"` package.json (this repository's own dist/, for one). So the
 * executable is a tiny loader valid in both module systems (a dynamic import() of node:module,
 * nothing else at top level) that compiles the CommonJS bundle, embedded as a string, with
 * vm.compileFunction — the same file runs wherever it is put.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where `make plugin` writes the executable. */
export const PLUGIN_EXECUTABLE = join(ROOT, 'dist', 'plugin', 'flant_gitops');

/** The executable's text: shebang, a module-system-neutral loader, the bundle as a string. */
function loader(version: string, bundle: string): string {
  return [
    '#!/usr/bin/env node',
    `// flant_gitops ${version}: OpenBao/Vault secrets plugin (see README "Running as an OpenBao plugin").`,
    "import('node:module').then(function (m) {",
    '  var file = process.argv[1];',
    '  var req = m.createRequire(file);',
    "  var params = ['exports', 'require', 'module', '__filename', '__dirname'];",
    "  var fn = req('node:vm').compileFunction(BUNDLE, params, { filename: file });",
    '  var mod = { exports: {} };',
    "  fn(mod.exports, req, mod, file, req('node:path').dirname(file));",
    '});',
    `var BUNDLE = ${JSON.stringify(bundle)};`,
    '',
  ].join('\n');
}

/**
 * Build the executable at `outfile` from `entry` (default src/plugin/main.ts; tests build probe
 * plugins from their own entries the same way); returns its SHA-256 (hex).
 */
export async function buildPlugin(
  outfile: string = PLUGIN_EXECUTABLE,
  entry: string = join(ROOT, 'src', 'plugin', 'main.ts'),
): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await build({
    write: false,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // dockerode → ssh2 and cpu-features try optional native addons inside try/catch; left out,
    // they fail to load and the pure-JS paths run (the runner talks to a unix socket, not SSH).
    external: ['*.node'],
    define: {
      FLANT_GITOPS_VERSION: JSON.stringify(pkg.version),
      // ES modules among the dependencies (openpgp, node-cron) read import.meta.url.
      'import.meta.url': '__import_meta_url',
    },
    banner: { js: "var __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'error',
  });
  const bundle = result.outputFiles?.[0]?.text;
  if (bundle === undefined) throw new Error('esbuild produced no output');
  writeFileSync(outfile, loader(pkg.version, bundle), { mode: 0o755 });
  chmodSync(outfile, 0o755);
  return createHash('sha256').update(readFileSync(outfile)).digest('hex');
}

const invokedDirectly =
  process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const out = process.argv[2] ? resolve(process.argv[2]) : PLUGIN_EXECUTABLE;
  buildPlugin(out).then(
    (sha) => {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      console.log(`${out}`);
      console.log(`version v${version}`);
      console.log(`sha256 ${sha}`);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
