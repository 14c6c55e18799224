/**
 * `node --import <this file>`: appends the URL of every module the process loads (ES modules and
 * CommonJS alike, through module.registerHooks: as it is resolved and as it is loaded) to the file named by FG_TEST_LOADED_MODULES, one
 * per line, as it is loaded. Tests read it to prove which libraries a process has NOT loaded.
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import process from 'node:process';

const file = process.env.FG_TEST_LOADED_MODULES;
if (file) {
  registerHooks({
    // Resolutions too: tsx reads CommonJS from disk itself, past the load hook, but every
    // require() it serves is still resolved through the hooks.
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
    load(url, context, nextLoad) {
      appendFileSync(file, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
