/**
 * Entry of a TEST-ONLY plugin executable (built by plugin-openbao-store.test.ts with the same
 * build as `make plugin`): the real plugin runtime and backend, serving one probe path that
 * exposes the plugin's Store operations, so the shared store contract can run against
 * OpenBao's own brokered storage through a real mount. Never shipped.
 */
import { AppError } from '../../src/errors.js';
import type { PathDescriptor } from '../../src/api/types.js';
import { createHclogLogger, stderrSink } from '../../src/plugin/hclog.js';
import { servePlugin } from '../../src/plugin/runtime.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `probe/<op>`: update with {key, value, cas, prefix}; answers {result}. */
const probePath: PathDescriptor = {
  pattern: 'probe/(?<op>get|put|list|delete)',
  synopsis: 'Store operations (test probe).',
  description: 'Test-only.',
  fields: {},
  operations: {
    async update(req, ctx) {
      const d = req.data;
      switch (req.captures['op']) {
        case 'get':
          return { data: { result: (await ctx.store.get(str(d['key']))) ?? null } };
        case 'put': {
          const cas = typeof d['cas'] === 'number' ? { cas: d['cas'] } : {};
          return { data: { result: await ctx.store.put(str(d['key']), d['value'], cas) } };
        }
        case 'list':
          return { data: { result: await ctx.store.list(str(d['prefix'])) } };
        case 'delete':
          await ctx.store.delete(str(d['key']));
          return { data: { result: null } };
        default:
          throw new AppError('NOT_FOUND', 'no such probe');
      }
    },
  },
};

const logger = createHclogLogger({ sinks: [stderrSink()] });
void servePlugin({
  env: process.env,
  logger,
  version: 'v0.0.1',
  dataDir: '/nonexistent',
  paths: [probePath],
  apiServices: () => ({
    keyInspector: {
      inspect: () => Promise.reject(new AppError('INTERNAL', 'not in the probe')),
    },
    vaultAccess: {
      configure: () => Promise.reject(new AppError('INTERNAL', 'not in the probe')),
      client: () => Promise.reject(new AppError('INTERNAL', 'not in the probe')),
    },
  }),
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  exit: (code) => process.exit(code),
});
