/**
 * Entry of the git host process (forked by host/fork.ts): runs every git call of the service
 * through SimpleGitMirrorFactory, so the service process itself never forks git. A fork copies
 * the forking process's page tables, and a spawn blocks its event loop for a time that grows with
 * its resident set: from this small process a git spawn is cheap, and the service's event loop
 * (API, webhooks, scheduler) no longer pays for it at all.
 *
 * Imports only the git adapter (simple-git) and what it needs — no fastify, openpgp, dockerode or
 * node-vault — so that its resident set stays small. It exits when the service goes away (the IPC
 * channel disconnects), taking the git processes it started with it.
 */
import { createGitSlots } from '../concurrency.js';
import { SimpleGitMirrorFactory } from '../mirror.js';
import { GIT_HOST_TITLE, type HostMessage, type HostRequest } from './protocol.js';
import { serveGitHost } from './serve.js';

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('the git host runs only as a child of flant-gitops (no IPC channel)\n');
    process.exit(2);
  }
  process.title = GIT_HOST_TITLE;
  process.on('disconnect', () => {
    // The service stopped or died. We lead our own process group (forked detached): end it, so
    // git processes still running for the service go too, then ourselves.
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      // not a group leader: only this process goes
    }
    process.exit(0);
  });
  serveGitHost(
    {
      send: (m: HostMessage) => {
        // A reply to a service that is gone is dropped ('disconnect' ends us right after).
        if (process.connected) send(m, undefined, undefined, () => undefined);
      },
      onMessage: (handler) => process.on('message', (m) => handler(m as HostRequest)),
    },
    (init, onRebuild) => {
      const slots = createGitSlots(init.concurrency);
      const factory = new SimpleGitMirrorFactory({
        slots,
        onRebuild,
        ...(init.timeoutMs === undefined ? {} : { timeoutMs: init.timeoutMs }),
        ...(init.tmpDir === undefined ? {} : { tmpDir: init.tmpDir }),
        ...(init.safeDirectories === undefined ? {} : { safeDirectories: init.safeDirectories }),
        ...(init.configFile === undefined ? {} : { configFile: init.configFile }),
      });
      return {
        factory,
        slots: () => ({
          limit: slots.limit,
          active: slots.active,
          waiting: slots.waiting,
          maxActive: slots.maxActive,
        }),
      };
    },
  );
}

main();
