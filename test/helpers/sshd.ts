/**
 * A throw-away OpenSSH server for git-over-SSH tests: `/usr/sbin/sshd -D` on 127.0.0.1:<free
 * port> with its own host key and authorized_keys in a temp dir, key-only root login. `stop()`
 * kills it and removes the dir; nothing outlives the test file.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './net.js';

const execFileP = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

/** An SSH key pair as text (test-only, no passphrase). */
export interface SshKeyPair {
  readonly privateKey: string;
  /** One authorized_keys / known_hosts style line: `<type> <base64> <comment>`. */
  readonly publicKey: string;
}

/** Generate an ed25519 key pair with ssh-keygen; no file is left behind. */
export async function generateSshKey(comment = 'fg-test'): Promise<SshKeyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sshkey-'));
  try {
    const f = join(dir, 'key');
    await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', f]);
    return {
      privateKey: readFileSync(f, 'utf8'),
      publicKey: readFileSync(`${f}.pub`, 'utf8').trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A running sshd. */
export interface Sshd {
  readonly port: number;
  /** A known_hosts line for this server's host key. */
  readonly knownHosts: string;
  /** `ssh://root@127.0.0.1:<port><absPath>` */
  url(absPath: string): string;
  stop(): Promise<void>;
}

async function banner(port: number): Promise<boolean> {
  return new Promise((resolveP) => {
    const s = connect(port, '127.0.0.1');
    s.once('data', (d: Buffer) => {
      s.destroy();
      resolveP(d.toString().startsWith('SSH-'));
    });
    s.once('error', () => resolveP(false));
  });
}

function sessionCount(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Start sshd accepting root logins with exactly `authorizedKeys`. Fails clearly if sshd is missing. */
export async function startSshd(authorizedKeys: readonly string[]): Promise<Sshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install openssh-server (scripts/provision.sh)`);
  }
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'fg-sshd-'));
  const hostKey = join(dir, 'host_key');
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const auth = join(dir, 'authorized_keys');
  writeFileSync(auth, authorizedKeys.map((k) => `${k}\n`).join(''), { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${auth}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel ERROR',
      'SetEnv GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LANG=C.UTF-8 LC_ALL=C.UTF-8',
      '',
    ].join('\n'),
  );
  const child = spawn(
    SSHD,
    ['-D', '-e', '-f', config, '-p', String(port), '-o', 'ListenAddress=127.0.0.1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 20_000) stderr += d.toString();
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (!exited) {
      // Let per-connection children finish first, so none is orphaned mid-session.
      await waitFor('sshd sessions to end', async () => sessionCount(child.pid) === 0, 5_000).catch(
        () => undefined,
      );
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`sshd on 127.0.0.1:${port}`, async () => {
      if (exited) throw new Error('sshd exited');
      return banner(port);
    });
  } catch (e) {
    await stop();
    throw new Error(`sshd did not start: ${(e as Error).message}\n${stderr.slice(-2000)}`);
  }
  const hostPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return {
    port,
    knownHosts: `[127.0.0.1]:${port} ${hostPub}`,
    url: (absPath) => `ssh://root@127.0.0.1:${port}${absPath}`,
    stop,
  };
}
