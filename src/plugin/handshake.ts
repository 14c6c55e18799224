/**
 * The go-plugin start-up contract, as pure functions of the environment: the magic cookie (a
 * process not started by OpenBao as a backend plugin, e.g. the database-plugin probe of
 * `-dev-plugin-dir`, must leave at once), protocol 5 only (the v4 fallback has no AutoMTLS and
 * would hide the real v5 error), and the one handshake line written after the socket is bound.
 */

/** The backend plugin cookie OpenBao sets (it keeps the VAULT_ prefix). */
export const MAGIC_COOKIE_KEY = 'VAULT_BACKEND_PLUGIN';
export const MAGIC_COOKIE_VALUE = '6669da05-b1c8-4f49-97d9-c8e5bed98e20';
/** The only application protocol this plugin speaks: v5 (gRPC + AutoMTLS). */
export const APP_PROTOCOL_VERSION = 5;
/** go-plugin's core protocol version, the first handshake field. */
export const CORE_PROTOCOL_VERSION = 1;

/** What the environment allows: serve, or refuse with a message for a stream and exit 1. */
export type StartDecision =
  | { readonly kind: 'serve'; readonly hostCertPem: string }
  | { readonly kind: 'refuse'; readonly stream: 'stdout' | 'stderr'; readonly message: string };

/**
 * Decide from the environment whether to serve. A wrong cookie goes to stderr (go-plugin's own
 * text explains the file is a plugin); a missing v5 goes to stdout as one line, which go-plugin
 * shows to the user inside the mount error ("Unrecognized remote plugin message: …").
 */
export function decideStart(env: NodeJS.ProcessEnv): StartDecision {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    return {
      kind: 'refuse',
      stream: 'stderr',
      message:
        'flant_gitops is an OpenBao/Vault secrets plugin: the server starts it (bao plugin register,\n' +
        'bao secrets enable); it is not meant to be run by hand.\n',
    };
  }
  const offered = (env['PLUGIN_PROTOCOL_VERSIONS'] ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const certPem = env['PLUGIN_CLIENT_CERT'] ?? '';
  if (!offered.includes(String(APP_PROTOCOL_VERSION)) || certPem.trim() === '') {
    const got = offered.length > 0 ? offered.join(',') : 'none';
    const why = offered.includes(String(APP_PROTOCOL_VERSION)) ? ' but no PLUGIN_CLIENT_CERT' : '';
    return {
      kind: 'refuse',
      stream: 'stdout',
      message: `flant_gitops: needs plugin protocol 5 with AutoMTLS, got ${got}${why}\n`,
    };
  }
  return { kind: 'serve', hostCertPem: certPem };
}

/**
 * The handshake line `1|5|unix|<path>|grpc|<cert>`: core version, app version, network, address,
 * protocol, and the DER certificate base64 without padding. No seventh field: go-plugin writes it
 * only with PLUGIN_MULTIPLEX_GRPC, which OpenBao never sets.
 */
export function handshakeLine(socketPath: string, certUnpaddedBase64: string): string {
  return `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socketPath}|grpc|${certUnpaddedBase64}\n`;
}
