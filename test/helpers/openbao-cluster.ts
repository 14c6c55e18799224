/**
 * A three-node OpenBao cluster with integrated storage (raft) on loopback, hosting the BUILT
 * plugin, for the high-availability suite and benchmark 11. Each node has its own raft data dir,
 * API and cluster port, plugin directory (the same executable, so the same SHA-256 on every node),
 * plugin data dir, audit log and server log, as three hosts would; all share this host's Docker.
 * `performance_multiplier = 1` gives the fast elections measured in shared/spec/openbao-raft.md.
 *
 * Nodes can be killed with -9, restarted (and unsealed: raft data is kept) and stepped down. The
 * client calls retry across nodes, because during a failover a standby answers writes with a 307
 * to the dead active node or a 500 "local node not active".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAO_BIN } from './bench.js';
import { freePort, waitFor } from './net.js';
import { bao, type BaoResult } from './openbao.js';

/** One node of the cluster. */
export interface ClusterNode {
  /** node1, node2, node3 */
  readonly id: string;
  readonly addr: string;
  /** The node's plugin directory (holds only the executable). */
  readonly pluginFile: string;
  /** FLANT_GITOPS_DATA_DIR of this node's plugin processes. */
  readonly dataDir: string;
  /** The plugin's own log on this node (FLANT_GITOPS_PLUGIN_LOG_FILE). */
  readonly pluginLogFile: string;
  readonly logFile: string;
  /** The file audit device's log (one path, declared alike on every node). */
  readonly auditLog: string;
  /** True while this node's server process runs. */
  running(): boolean;
  /** PIDs of this node's live plugin processes. */
  pluginPids(): number[];
}

/** The running cluster. */
export interface OpenBaoCluster {
  readonly nodes: readonly ClusterNode[];
  readonly token: string;
  /** The SHA-256 the plugin was registered with. */
  readonly sha256: string;
  /** The node whose /sys/health says active (waits for one). */
  active(timeoutMs?: number): Promise<ClusterNode>;
  /** `bao` against one node; never throws. */
  cliAt(node: ClusterNode, args: string[], stdin?: string): Promise<BaoResult>;
  /** `bao` through any live node, retried across nodes while the cluster fails over. */
  cli(args: string[], stdin?: string): Promise<BaoResult>;
  /** Like `cli`, but throws on a final non-zero exit; returns trimmed stdout. */
  must(args: string[], stdin?: string): Promise<string>;
  /** kill -9 the node's server; its plugin processes exit when their host is gone. */
  kill(node: ClusterNode): Promise<void>;
  /** Start a stopped node again and unseal it (it rejoins as a standby). */
  restart(node: ClusterNode): Promise<void>;
  /** `bao operator step-down` on the active node; returns the node that stepped down. */
  stepDown(): Promise<ClusterNode>;
  /** Wait until autopilot reports a healthy cluster that survives one lost node. */
  waitTolerant(timeoutMs?: number): Promise<void>;
  /** Stop every node and plugin process and remove every dir. */
  stop(): Promise<void>;
}

/** Options of the cluster. */
export interface ClusterOptions {
  /** Environment of every server (plugins inherit it), beside the per-node plugin settings. */
  readonly env?: NodeJS.ProcessEnv;
  /** Mounts to enable (plugin flant_gitops) once the cluster is up. */
  readonly mounts?: readonly string[];
}

interface NodeState extends ClusterNode {
  readonly configFile: string;
  child: ChildProcess | undefined;
}

/** PIDs whose command line names `file`. */
function pidsRunning(file: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      if (cmd.includes(file)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Errors a client sees while the cluster fails over: try another node, or again. */
const TRANSIENT =
  /connection refused|local node not active|active cluster node not found|EOF|reset by peer|no route|Code: 50[0-9]|Code: 429|Code: 307|Waiting for the primary|Vault is sealed|context deadline|timeout/i;

/** Start the cluster with the plugin executable `exe` registered as `flant_gitops`. */
export async function startOpenBaoCluster(
  exe: string,
  opts: ClusterOptions = {},
): Promise<OpenBaoCluster> {
  const root = mkdtempSync(join(tmpdir(), 'fg-raft-'));
  const apiPorts = [await freePort(), await freePort(), await freePort()];
  const clusterPorts = [await freePort(), await freePort(), await freePort()];
  // The audit device's options must be the same on every node (OpenBao refuses a node whose
  // declared device differs from the replicated table), as the same path on three hosts would be.
  const auditLog = join(root, 'audit.log');
  const sha256 = createHash('sha256').update(readFileSync(exe)).digest('hex');
  const nodes: NodeState[] = apiPorts.map((port, i) => {
    const id = `node${i + 1}`;
    const dir = join(root, id);
    for (const d of ['raft', 'plugins', 'plugin-data'])
      mkdirSync(join(dir, d), { recursive: true });
    const pluginFile = join(dir, 'plugins', 'flant_gitops');
    copyFileSync(exe, pluginFile);
    const addr = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'server.hcl');
    writeFileSync(
      configFile,
      [
        'ui = false',
        'log_level = "debug"',
        `plugin_directory = "${join(dir, 'plugins')}"`,
        'storage "raft" {',
        `  path = "${join(dir, 'raft')}"`,
        `  node_id = "${id}"`,
        '  performance_multiplier = 1',
        '}',
        'listener "tcp" {',
        `  address = "127.0.0.1:${port}"`,
        `  cluster_address = "127.0.0.1:${clusterPorts[i]}"`,
        '  tls_disable = true',
        '}',
        `api_addr = "${addr}"`,
        `cluster_addr = "https://127.0.0.1:${clusterPorts[i]}"`,
        // Declared in the config: OpenBao refuses to enable audit devices through the API.
        'audit "file" "file" {',
        `  options { file_path = "${auditLog}" }`,
        '}',
        '',
      ].join('\n'),
    );
    return {
      id,
      addr,
      pluginFile,
      dataDir: join(dir, 'plugin-data'),
      pluginLogFile: join(dir, 'plugin.log'),
      logFile: join(dir, 'openbao.log'),
      auditLog,
      configFile,
      child: undefined,
      running() {
        return this.child !== undefined;
      },
      pluginPids: () => pidsRunning(pluginFile),
    };
  });

  let token = '';
  let unsealKey = '';
  const target = (n: ClusterNode) => ({ addr: n.addr, token });
  const cliAt = (n: ClusterNode, args: string[], stdin?: string): Promise<BaoResult> =>
    bao(target(n), args, stdin === undefined ? {} : { stdin });

  const health = async (n: ClusterNode): Promise<number> => {
    try {
      const r = await fetch(`${n.addr}/v1/sys/health`, { signal: AbortSignal.timeout(1_000) });
      return r.status;
    } catch {
      return 0;
    }
  };

  function launch(n: NodeState): void {
    const log = createWriteStream(n.logFile, { flags: 'a' });
    const child = spawn(BAO_BIN, ['server', `-config=${n.configFile}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: join(n.configFile, '..'),
        SKIP_SETCAP: '1',
        FLANT_GITOPS_DATA_DIR: n.dataDir,
        FLANT_GITOPS_PLUGIN_LOG_FILE: n.pluginLogFile,
        FLANT_GITOPS_PLUGIN_LOG_LEVEL: 'debug',
        FLANT_GITOPS_CONTAINER_NETWORK: 'host',
        FLANT_GITOPS_TICK_SECONDS: '1',
        // Test repositories are made under the temp dir (the plugin's data dir is refused anyway).
        FLANT_GITOPS_LOCAL_REPO_ROOTS: tmpdir(),
        ...opts.env,
      },
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', () => {
      if (n.child === child) n.child = undefined;
      log.end();
    });
    n.child = child;
  }

  async function unseal(n: NodeState): Promise<void> {
    await waitFor(
      `${n.id} to listen`,
      async () => {
        if (!n.child)
          throw new Error(`${n.id} exited:\n${readFileSync(n.logFile, 'utf8').slice(-2000)}`);
        return (await health(n)) !== 0;
      },
      30_000,
      50,
    );
    await waitFor(
      `${n.id} to unseal`,
      async () => (await cliAt(n, ['operator', 'unseal', unsealKey])).code === 0,
      30_000,
    );
    await waitFor(`${n.id} to serve`, async () => [200, 429].includes(await health(n)), 30_000, 50);
  }

  async function active(timeoutMs = 60_000): Promise<ClusterNode> {
    let found: ClusterNode | undefined;
    await waitFor(
      'an active node',
      async () => {
        for (const n of nodes) {
          if (n.child && (await health(n)) === 200) {
            found = n;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      50,
    );
    if (!found) throw new Error('no active node');
    return found;
  }

  async function cli(args: string[], stdin?: string): Promise<BaoResult> {
    const deadline = Date.now() + 60_000;
    let last: BaoResult = { code: -1, stdout: '', stderr: 'no live node' };
    for (let i = 0; ; i++) {
      const live = nodes.filter((n) => n.child);
      const n = live[i % Math.max(1, live.length)];
      if (n) {
        last = await cliAt(n, args, stdin);
        if (last.code === 0 || !TRANSIENT.test(last.stderr)) return last;
      }
      if (Date.now() > deadline) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function must(args: string[], stdin?: string): Promise<string> {
    const r = await cli(args, stdin);
    if (r.code !== 0) throw new Error(`bao ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
  }

  async function kill(node: ClusterNode): Promise<void> {
    const n = node as NodeState;
    const child = n.child;
    if (!child) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async function waitTolerant(timeoutMs = 90_000): Promise<void> {
    await waitFor(
      'autopilot: healthy, failure tolerance 1',
      async () => {
        const a = await active(5_000);
        const r = await cliAt(a, ['operator', 'raft', 'autopilot', 'state', '-format=json']);
        if (r.code !== 0) return false;
        const s = JSON.parse(r.stdout) as { Healthy?: boolean; FailureTolerance?: number };
        return s.Healthy === true && (s.FailureTolerance ?? 0) >= 1;
      },
      timeoutMs,
      250,
    );
  }

  async function stop(): Promise<void> {
    for (const n of nodes) {
      const child = n.child;
      if (!child) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    // A plugin whose host is gone exits by itself; do not leave one behind if it has not yet.
    for (const n of nodes) for (const pid of n.pluginPids()) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }

  try {
    const [first, ...rest] = nodes as [NodeState, NodeState, NodeState];
    launch(first);
    await waitFor('node1 to listen', async () => (await health(first)) !== 0, 30_000, 50);
    const init = await cliAt(first, [
      'operator',
      'init',
      '-key-shares=1',
      '-key-threshold=1',
      '-format=json',
    ]);
    if (init.code !== 0) throw new Error(`operator init failed: ${init.stderr}`);
    const keys = JSON.parse(init.stdout) as { unseal_keys_b64: string[]; root_token: string };
    unsealKey = keys.unseal_keys_b64[0] ?? '';
    token = keys.root_token;
    await unseal(first);
    await active();
    for (const n of rest) {
      launch(n);
      await waitFor(`${n.id} to listen`, async () => (await health(n)) !== 0, 30_000, 50);
      await waitFor(
        `${n.id} to join`,
        async () => (await cliAt(n, ['operator', 'raft', 'join', first.addr])).code === 0,
        30_000,
        250,
      );
      await unseal(n);
    }
    await must([
      'plugin',
      'register',
      `-sha256=${sha256}`,
      '-command=flant_gitops',
      'secret',
      'flant_gitops',
    ]);
    await must(['secrets', 'enable', '-path=secret', '-version=2', 'kv']);
    for (const m of opts.mounts ?? []) {
      await must(['secrets', 'enable', `-path=${m}`, 'flant_gitops']);
      // A standby routes a new mount once the mount table change reached it; until then it
      // answers 404 "no handler for route" instead of serving or forwarding.
      for (const n of nodes) {
        await waitFor(
          `${n.id} to route ${m}/`,
          async () => (await cliAt(n, ['read', '-format=json', `${m}/status`])).code === 0,
          30_000,
        );
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    nodes,
    get token() {
      return token;
    },
    sha256,
    active,
    cliAt,
    cli,
    must,
    kill,
    async restart(node) {
      const n = node as NodeState;
      if (n.child) return;
      launch(n);
      await unseal(n);
    },
    async stepDown() {
      const a = await active();
      const r = await cliAt(a, ['operator', 'step-down']);
      if (r.code !== 0) throw new Error(`step-down on ${a.id} failed: ${r.stderr}`);
      return a;
    },
    waitTolerant,
    stop,
  };
}
