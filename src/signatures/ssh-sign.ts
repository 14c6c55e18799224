/**
 * Signing with the approver's own SSH key: we spawn `ssh-keygen -Y sign -n git` rather than load
 * a key into the process, so ssh-agent, passphrase prompts and FIDO hardware keys keep working
 * exactly as for `git -c gpg.format=ssh commit -S`, and the private key never passes through us.
 * The note line is our SSH format (signature-sources.ts): the SSHSIG blob over the commit id
 * with no newline, base64 on one line — the armor's body, joined.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { dearmorSshSignature } from '../sshsig/armor.js';

/** What to sign with. */
export interface SshSignOptions {
  /**
   * A private key file, a `.pub` file whose key is in ssh-agent, or git's literal form
   * `key::ssh-ed25519 AAAA…` (agent); `~/` is expanded as git does.
   */
  readonly key: string;
  readonly env?: NodeJS.ProcessEnv;
}

function runKeygen(keyPath: string, payload: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolveP, reject) => {
    // stderr goes to the user's terminal: passphrase prompts and "touch your key" stay visible.
    const child = spawn('ssh-keygen', ['-Y', 'sign', '-n', 'git', '-f', keyPath], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.once('error', (e) =>
      reject(new AppError('INVALID_INPUT', `cannot run ssh-keygen: ${e.message}`)),
    );
    child.once('close', (code) => {
      if (code === 0) resolveP(Buffer.concat(out).toString('utf8'));
      else reject(new AppError('INVALID_INPUT', `ssh-keygen -Y sign failed (exit code ${code})`));
    });
    child.stdin.end(payload);
  });
}

/** Sign `payload` (the 40-hex commit id) in namespace git; resolves with the note line. */
export async function sshSignNoteLine(payload: string, opts: SshSignOptions): Promise<string> {
  const env = opts.env ?? process.env;
  let tmp: string | undefined;
  try {
    let keyPath = opts.key.startsWith('~/') ? join(homedir(), opts.key.slice(2)) : opts.key;
    if (opts.key.startsWith('key::')) {
      tmp = await mkdtemp(join(tmpdir(), 'fg-ssh-sign-'));
      keyPath = join(tmp, 'key.pub');
      await writeFile(keyPath, `${opts.key.slice('key::'.length)}\n`, { mode: 0o600 });
    }
    const blob = dearmorSshSignature(await runKeygen(keyPath, payload, env));
    if (!blob) throw new AppError('INVALID_INPUT', 'ssh-keygen did not print an SSH signature');
    return blob.toString('base64');
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
