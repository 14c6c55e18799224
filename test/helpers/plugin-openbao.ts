/**
 * A real OpenBao dev server (the bench's bao 2.7.2) running the BUILT plugin: a fresh plugin
 * directory holding only the executable (`-dev-plugin-dir` registers it by SHA-256 at start),
 * the mounts enabled with `bao secrets enable`, the raw storage endpoint on so a test can see
 * exactly what a mount stored (decrypted barrier entries), and every log line kept in files.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bao, startOpenBao, type OpenBao } from './openbao.js';

/** An OpenBao serving the plugin. */
export interface PluginOpenBao extends OpenBao {
  readonly pluginDir: string;
  /** The plugin's data dir (FLANT_GITOPS_DATA_DIR in the server's environment). */
  readonly dataDir: string;
  /** OpenBao's own log (trace level), which includes the plugin's stderr lines. */
  readonly logFile: string;
  /** The plugin's own log file (FLANT_GITOPS_PLUGIN_LOG_FILE). */
  readonly pluginLogFile: string;
  /** The file audit device's log (declared in the server config: OpenBao refuses API audit). */
  readonly auditLog: string;
  /** Every stored entry of `mount`, decrypted, as sorted `key=value` lines (sys/raw). */
  rawSnapshot(mount: string): Promise<string>;
}

async function must(b: { addr: string; token: string }, args: string[]): Promise<string> {
  const r = await bao(b, args);
  if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Start OpenBao with `exe` as plugin `flant_gitops` and enable it at each of `mounts`. */
export async function startPluginOpenBao(
  exe: string,
  mounts: readonly string[] = ['flant_gitops', 'flant-gitops'],
): Promise<PluginOpenBao> {
  const root = mkdtempSync(join(tmpdir(), 'fg-plugin-bao-'));
  const pluginDir = join(root, 'plugins');
  const dataDir = join(root, 'data');
  mkdirSync(pluginDir);
  mkdirSync(dataDir);
  copyFileSync(exe, join(pluginDir, 'flant_gitops'));
  const logFile = join(root, 'openbao.log');
  const pluginLogFile = join(root, 'plugin.log');
  const auditLog = join(root, 'audit.log');
  const server = await startOpenBao({
    token: 'plugin-root-token',
    pluginDir,
    configHcl: [
      'raw_storage_endpoint = true',
      'log_level = "trace"',
      'audit "file" "file" {',
      `  options { file_path = "${auditLog}" }`,
      '}',
      '',
    ].join('\n'),
    env: {
      FLANT_GITOPS_DATA_DIR: dataDir,
      FLANT_GITOPS_PLUGIN_LOG_FILE: pluginLogFile,
      FLANT_GITOPS_PLUGIN_LOG_LEVEL: 'debug',
      // API suites only: their configurations name hosts (git.example.com, registry.example.com)
      // that a running pipeline would try to reach. The pipeline's own suites run it on.
      FLANT_GITOPS_PIPELINE: 'off',
    },
    logFile,
  });
  try {
    for (const m of mounts) await must(server, ['secrets', 'enable', `-path=${m}`, 'flant_gitops']);
  } catch (e) {
    await server.stop();
    throw new Error(`${(e as Error).message}\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
  }

  async function uuidOf(mount: string): Promise<string> {
    const all = JSON.parse(await must(server, ['read', '-format=json', 'sys/mounts'])) as {
      data: Record<string, { uuid: string }>;
    };
    const m = all.data[`${mount}/`];
    if (!m) throw new Error(`no mount ${mount}`);
    return m.uuid;
  }

  async function rawKeys(prefix: string): Promise<string[]> {
    const r = await bao(server, ['list', '-format=json', `sys/raw/${prefix}`]);
    if (r.code !== 0) return [];
    const out: string[] = [];
    for (const k of JSON.parse(r.stdout) as string[]) {
      if (k.endsWith('/')) out.push(...(await rawKeys(prefix + k)));
      else out.push(prefix + k);
    }
    return out;
  }

  return {
    ...server,
    pluginDir,
    dataDir,
    logFile,
    pluginLogFile,
    auditLog,
    async rawSnapshot(mount) {
      const prefix = `logical/${await uuidOf(mount)}/`;
      const lines: string[] = [];
      for (const key of (await rawKeys(prefix)).sort()) {
        const r = JSON.parse(await must(server, ['read', '-format=json', `sys/raw/${key}`])) as {
          data: { value: string };
        };
        lines.push(`${key.slice(prefix.length)}=${r.data.value}`);
      }
      return lines.join('\n');
    },
    async stop() {
      await server.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
