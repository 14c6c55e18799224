/**
 * A stand-in for the service, for the test that its git host exits when the service dies:
 * `node --import tsx test/helpers/git-host-parent.ts <origin> <mirrorDir> <hangingUrl>` starts a
 * git host (one ls-remote of `origin`), prints `{"hostPid":…}` on stdout, then leaves an
 * ls-remote of `hangingUrl` (a remote that never answers) in flight until it is killed.
 */
import { HostedGitMirrorFactory } from '../../src/git/host/client.js';

const [origin, mirrorDir, hangingUrl] = process.argv.slice(2);
if (origin === undefined || mirrorDir === undefined || hangingUrl === undefined) {
  throw new Error('usage: git-host-parent.ts <origin> <mirrorDir> <hangingUrl>');
}
const factory = new HostedGitMirrorFactory({ timeoutMs: 600_000 });
const none = { kind: 'none' } as const;
await (await factory.open(mirrorDir, { url: origin, branch: 'main', auth: none })).lsRemote();
process.stdout.write(`${JSON.stringify({ hostPid: factory.hostPid })}\n`);
const hanging = await factory.open(`${mirrorDir}-hanging`, {
  url: hangingUrl,
  branch: 'main',
  auth: none,
});
await hanging.lsRemote();
