/**
 * The host side of the git host: answers the service's requests (protocol.ts) with a
 * GitMirrorFactory built from the first message. Every reply carries the host's slot use (for the
 * service's git process gauges) and the mirror's counters (for metrics and tests), so the service
 * never has to ask. Independent of how messages travel, so it is unit-tested over a fake pipe.
 */
import { AppError } from '../../errors.js';
import type { GitMirror, GitMirrorFactory } from '../types.js';
import {
  errorToWire,
  MIRROR_METHODS,
  type HostInit,
  type HostMessage,
  type HostRequest,
  type CallRequest,
  type OpenRequest,
  type SlotStats,
} from './protocol.js';

/** How the host talks to the service. */
export interface HostPipe {
  send(message: HostMessage): void;
  onMessage(handler: (message: HostRequest) => void): void;
}

/** What the init message builds: the factory and the slots its git calls hold. */
export interface HostFactory {
  readonly factory: GitMirrorFactory;
  readonly slots: () => SlotStats;
}

/**
 * Serve requests on `pipe`. `build` makes the factory from the init message (the first message;
 * `onRebuild` forwards the factory's rebuild notices to the service). Returns how many mirrors
 * are open (for tests).
 */
export function serveGitHost(
  pipe: HostPipe,
  build: (
    init: HostInit,
    onRebuild: (dir: string, missing: readonly string[]) => void,
  ) => HostFactory,
): { readonly openMirrors: () => number } {
  let host: HostFactory | undefined;
  const mirrors = new Map<number, GitMirror>();
  const onRebuild = (mirrorDir: string, missing: readonly string[]): void =>
    pipe.send({ t: 'rebuild', mirrorDir, missing: [...missing] });

  const answer = async (req: OpenRequest | CallRequest): Promise<void> => {
    const slots = (): SlotStats =>
      host?.slots() ?? { limit: 0, active: 0, waiting: 0, maxActive: 0 };
    const counters = () => {
      const c = mirrors.get(req.handle)?.counters;
      return c === undefined ? {} : { counters: { lsRemote: c.lsRemote, fetch: c.fetch } };
    };
    try {
      let value: unknown;
      if (host === undefined) {
        throw new AppError('INTERNAL', 'git host: a request came before its init message');
      }
      if (req.t === 'open') {
        mirrors.set(req.handle, await host.factory.open(req.dir, req.spec));
      } else {
        const mirror = mirrors.get(req.handle);
        if (mirror === undefined) {
          throw new AppError('INTERNAL', `git host: no mirror is open as handle ${req.handle}`);
        }
        if (!MIRROR_METHODS.includes(req.method)) {
          throw new AppError('INTERNAL', `git host: no such mirror method ${String(req.method)}`);
        }
        const fn = mirror[req.method] as (...args: unknown[]) => Promise<unknown>;
        value = await fn.apply(mirror, [...req.args]);
      }
      pipe.send({ t: 'reply', id: req.id, ok: true, value, slots: slots(), ...counters() });
    } catch (e) {
      pipe.send({
        t: 'reply',
        id: req.id,
        ok: false,
        error: errorToWire(e),
        slots: slots(),
        ...counters(),
      });
    }
  };

  pipe.onMessage((req) => {
    if (req.t === 'init') {
      host ??= build(req, onRebuild);
      return;
    }
    if (req.t === 'close') {
      mirrors.delete(req.handle);
      return;
    }
    void answer(req);
  });
  return { openMirrors: () => mirrors.size };
}
