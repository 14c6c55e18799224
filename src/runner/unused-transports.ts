/**
 * dockerode loads, at its own start, two transports this service never uses: docker-modem's SSH
 * transport (ssh2, with a WebAssembly Poly1305 whose 16 MiB memory is allocated on load) and
 * dockerode's BuildKit session (@grpc/grpc-js and @grpc/proto-loader). We reach the engine over
 * its local Unix socket only and never build an image. Measured on Node 24 (2026-12-02): loading
 * dockerode and pinging the engine left the process at 71 MiB resident with them and 64 MiB
 * without (V8 heap 10.6 → 6.6 MiB, external memory 18.8 → 2.3 MiB) — memory a 1,000-mount
 * service keeps for its whole life (BENCHMARKS.md, row 12).
 *
 * `skipUnusedTransports()` registers a module resolution hook (node:module registerHooks) that
 * answers exactly those three requires — `ssh2` from docker-modem, the two gRPC packages from
 * dockerode — with a small stand-in (unused-transport.cts) that fails, naming why, if anything
 * ever uses it. Every other
 * require of those packages (the OpenBao plugin's own gRPC server) resolves as usual.
 */
import { registerHooks } from 'node:module';

/**
 * The stand-in's URL: unused-transport.cts, compiled to .cjs (a real file, so loaders that read
 * CommonJS from disk themselves — tsx in the tests — find it too).
 */
const STAND_IN = new URL(
  import.meta.url.endsWith('.ts') ? './unused-transport.cts' : './unused-transport.cjs',
  import.meta.url,
).href;

/** Which requires are answered with the stand-in: specifier → the package that asks for it. */
const UNUSED: Readonly<Record<string, string>> = {
  ssh2: '/node_modules/docker-modem/',
  '@grpc/grpc-js': '/node_modules/dockerode/',
  '@grpc/proto-loader': '/node_modules/dockerode/',
};

let registered = false;

/** Register the hook (once per process); call before dockerode is first loaded. */
export function skipUnusedTransports(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const asker = UNUSED[specifier];
      if (asker !== undefined && context.parentURL?.includes(asker) === true) {
        return { url: STAND_IN, format: 'commonjs', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}
