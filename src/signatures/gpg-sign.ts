/**
 * Signing with the approver's own gpg: we spawn `gpg` rather than load a key into the process,
 * so gpg-agent, pinentry and smartcards keep working exactly as for `git commit -S`, and the
 * private key never passes through us. The signature is what werf's `git signatures add` makes:
 * `gpg --detach-sign` (binary) over the commit id with no newline, base64 on one line.
 */
import { spawn } from 'node:child_process';
import { AppError } from '../errors.js';

/** What to sign with. */
export interface GpgSignOptions {
  /** `--local-user` (key id, fingerprint or user id); undefined lets gpg pick its default key. */
  readonly key?: string;
  /** The gpg program (git's `gpg.program` when set); default `gpg`. */
  readonly program?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Detach-sign `payload` with gpg; resolves with the binary signature. */
export function gpgDetachSign(payload: string, opts: GpgSignOptions = {}): Promise<Buffer> {
  const args = ['--detach-sign'];
  if (opts.key !== undefined && opts.key !== '') args.unshift('--local-user', opts.key);
  return new Promise((resolveP, reject) => {
    // stderr goes to the user's terminal: pinentry prompts and gpg's own messages stay visible.
    const child = spawn(opts.program ?? 'gpg', args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.once('error', (e) =>
      reject(new AppError('PGP_INVALID', `cannot run ${opts.program ?? 'gpg'}: ${e.message}`)),
    );
    child.once('close', (code) => {
      const sig = Buffer.concat(out);
      if (code === 0 && sig.length > 0) resolveP(sig);
      else reject(new AppError('PGP_INVALID', `gpg --detach-sign failed (exit code ${code})`));
    });
    child.stdin.end(payload);
  });
}

/** The note line werf's tool writes: the binary signature as base64 on one line. */
export function noteLine(signature: Uint8Array): string {
  return Buffer.from(signature).toString('base64');
}
