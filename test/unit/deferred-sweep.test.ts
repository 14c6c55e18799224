import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logging.js';
import { deferSweeps } from '../../src/runner/deferred-sweep.js';
import { sweepSets, type ContainerRunner, type RunSpec } from '../../src/runner/types.js';

/** A runner that records the order of the calls it gets; `failSweep` makes sweeps throw. */
function recordingRunner(failSweep = false) {
  const calls: string[] = [];
  const runner: ContainerRunner = {
    ping: async () => {
      calls.push('ping');
    },
    ensureImage: async (image) => {
      calls.push(`ensureImage ${image}`);
    },
    run: async () => {
      calls.push('run');
      return { outcome: 'succeeded' };
    },
    sweep: async (labels) => {
      calls.push(
        `sweep ${sweepSets(labels)
          .map((l) => Object.values(l).join(','))
          .join(' | ')}`,
      );
      if (failSweep) throw new Error('engine gone');
      return 1;
    },
  };
  return { runner, calls };
}

function recordingLogger() {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (_fields, msg) => warnings.push(msg),
    error: () => undefined,
    child: () => logger,
  };
  return { logger, warnings };
}

const SPEC = {} as RunSpec;

describe('sweeps deferred to the first engine call', () => {
  it('records sweeps without touching the engine; a ping does not sweep', async () => {
    const { runner, calls } = recordingRunner();
    const deferred = deferSweeps(runner, recordingLogger().logger);
    expect(await deferred.sweep({ mount: 'a' })).toBe(0);
    await deferred.ping();
    expect(calls).toEqual(['ping']);
  });

  it('sweeps every recorded label set once, in one sweep, before the first image check', async () => {
    const { runner, calls } = recordingRunner();
    const deferred = deferSweeps(runner, recordingLogger().logger);
    await deferred.sweep({ mount: 'a' });
    await deferred.sweep({ mount: 'b' });
    await Promise.all([deferred.ensureImage('img'), deferred.run(SPEC)]);
    await deferred.ensureImage('img2');
    expect(calls[0]).toBe('sweep a | b');
    expect(calls.filter((c) => c.startsWith('sweep'))).toHaveLength(1);
    expect(calls.slice(1).sort()).toEqual(['ensureImage img', 'ensureImage img2', 'run'].sort());
  });

  it('sweeps a set recorded after the first flush before the next engine call', async () => {
    const { runner, calls } = recordingRunner();
    const deferred = deferSweeps(runner, recordingLogger().logger);
    await deferred.sweep({ mount: 'a' });
    await deferred.run(SPEC);
    await deferred.sweep([{ mount: 'b' }, { mount: 'c' }]);
    await deferred.run(SPEC);
    expect(calls).toEqual(['sweep a', 'run', 'sweep b | c', 'run']);
  });

  it('sweeps before a run too', async () => {
    const { runner, calls } = recordingRunner();
    const deferred = deferSweeps(runner, recordingLogger().logger);
    await deferred.sweep({ mount: 'a' });
    await deferred.run(SPEC);
    expect(calls).toEqual(['sweep a', 'run']);
  });

  it('a failed sweep is logged and does not fail the call that triggered it', async () => {
    const { runner, calls } = recordingRunner(true);
    const { logger, warnings } = recordingLogger();
    const deferred = deferSweeps(runner, logger);
    await deferred.sweep({ mount: 'a' });
    await expect(deferred.ensureImage('img')).resolves.toBeUndefined();
    expect(calls).toEqual(['sweep a', 'ensureImage img']);
    expect(warnings).toEqual(['leftover containers could not be swept']);
  });
});
