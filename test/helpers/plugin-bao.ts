/**
 * A real OpenBao dev server (the bench's bao) hosting the BUILT plugin for the lifecycle and
 * end-to-end suites: a fresh plugin directory holding only the executable (`-dev-plugin-dir`
 * registers it by SHA-256), the plugin's data dir and log file given through the server's
 * environment (which plugins inherit), and a way to find the plugin's processes by the path of
 * that executable — unique per server, so tests never touch another server's plugins.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAO_BIN } from './bench.js';
import { freePort, waitFor } from './net.js';
import { bao, type BaoResult } from './openbao.js';

/** An OpenBao serving the plugin. */
export interface PluginBao {
  readonly addr: string;
  readonly token: string;
  readonly pluginDir: string;
  readonly dataDir: string;
  /** OpenBao's own log (it includes the plugin's stderr lines). */
  readonly logFile: string;
  /** The plugin's own log file (every process appends to it). */
  readonly pluginLogFile: string;
  /** Run the real `bao` CLI against this server; never throws. */
  cli(args: string[], stdin?: string): Promise<BaoResult>;
  /** Like `cli`, but throws on a non-zero exit; returns trimmed stdout. */
  must(args: string[], stdin?: string): Promise<string>;
  /** PIDs of the live plugin processes of this server. */
  pluginPids(): number[];
  stop(): Promise<void>;
}

/** PIDs whose command line names `file` (the plugin executable of one server). */
function pidsRunning(file: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie has exited
      if (cmd.includes(file)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Start OpenBao dev with the plugin `exe` registered as `flant_gitops`. */
export async function startPluginBao(exe: string, env: NodeJS.ProcessEnv = {}): Promise<PluginBao> {
  const root = mkdtempSync(join(tmpdir(), 'fg-pbao-'));
  const pluginDir = join(root, 'plugins');
  const dataDir = join(root, 'data');
  mkdirSync(pluginDir);
  mkdirSync(dataDir);
  const pluginFile = join(pluginDir, 'flant_gitops');
  copyFileSync(exe, pluginFile);
  const logFile = join(root, 'openbao.log');
  const pluginLogFile = join(root, 'plugin.log');
  const port = await freePort();
  const token = 'plugin-e2e-root-token';
  const addr = `http://127.0.0.1:${port}`;
  const child = spawn(
    BAO_BIN,
    [
      'server',
      '-dev',
      `-dev-root-token-id=${token}`,
      `-dev-listen-address=127.0.0.1:${port}`,
      `-dev-plugin-dir=${pluginDir}`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: root,
        SKIP_SETCAP: '1',
        FLANT_GITOPS_DATA_DIR: dataDir,
        FLANT_GITOPS_PLUGIN_LOG_FILE: pluginLogFile,
        FLANT_GITOPS_CONTAINER_NETWORK: 'host',
        FLANT_GITOPS_TICK_SECONDS: '1',
        // Test repositories are made under the temp dir (the plugin's data dir is refused anyway).
        FLANT_GITOPS_LOCAL_REPO_ROOTS: tmpdir(),
        ...env,
      },
    },
  );
  const log = createWriteStream(logFile);
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exited = false;
  child.once('exit', () => (exited = true));
  const target = { addr, token };
  const cli = (args: string[], stdin?: string): Promise<BaoResult> =>
    bao(target, args, stdin === undefined ? {} : { stdin });
  const must = async (args: string[], stdin?: string): Promise<string> => {
    const r = await cli(args, stdin);
    if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  };
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    // A plugin whose host was killed exits when its broker stream ends; do not leave one behind.
    for (const pid of pidsRunning(pluginFile)) process.kill(pid, 'SIGKILL');
    log.end();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `OpenBao with the plugin at ${addr}`,
      async () => {
        if (exited) throw new Error(`exited:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
        return (await cli(['status', '-format=json'])).stdout.includes('"sealed": false');
      },
      30_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    addr,
    token,
    pluginDir,
    dataDir,
    logFile,
    pluginLogFile,
    cli,
    must,
    pluginPids: () => pidsRunning(pluginFile),
    stop,
  };
}
