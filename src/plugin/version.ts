/**
 * The version the plugin reports to OpenBao (logical.PluginVersion). It must be empty or valid
 * semver; OpenBao records a served version at registration. The bundle gets package.json's
 * version baked in by scripts/build-plugin.ts (esbuild `define`), so the executable needs no
 * package.json beside it; unbundled runs (tsx, tests) fall back to npm's variable or 0.0.0-dev.
 */

declare const FLANT_GITOPS_VERSION: string | undefined;

/** `v<semver>`, e.g. v0.1.0. */
export function pluginVersion(): string {
  const baked = typeof FLANT_GITOPS_VERSION === 'string' ? FLANT_GITOPS_VERSION : undefined;
  const v = baked ?? process.env['npm_package_version'] ?? '0.0.0-dev';
  return v.startsWith('v') ? v : `v${v}`;
}
