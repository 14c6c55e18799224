/**
 * `flant-gitops signatures add|push|show`: the approver's side of the N-of-M gate. `add` signs
 * the commit a ref names — resolved to its object id first, so the signed bytes are always the
 * 40 hex the gate checks (werf's tool signs `git show-ref <ref> -s`, which for HEAD or a short
 * branch name is not that) — with the user's own gpg, in werf's note format; `push` sends the
 * notes and the latest-signature tag; `show` judges a commit with a mount's trusted keys.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isAppError } from '../errors.js';
import { openWorkRepo } from '../git/work-repo.js';
import { createOpenPgpVerifier } from '../pgp/openpgp.js';
import { gpgDetachSign, noteLine } from './gpg-sign.js';
import { formatShown, jsonShown, showSignatures } from './show.js';
import { sshSignNoteLine } from './ssh-sign.js';
import { fetchRequired, fetchTrustedKeys, fetchTrustedSshKeys } from './trusted-keys.js';

/** Usage of the signatures commands. */
export const SIGNATURES_USAGE = `Usage:
  flant-gitops signatures add [--ref refs/heads/<branch> | COMMIT] [--key KEY] [--ssh-key FILE]
                             [--push] [--remote NAME]
      sign the commit (default HEAD, always resolved to its object id) with your gpg key
      (--key, else git's user.signingKey, else gpg's default) into refs/notes/signatures and
      move the latest-signature tag, as werf's \`git signatures add\` does; with --ssh-key, or
      when git's gpg.format is ssh (key: user.signingKey), sign with \`ssh-keygen -Y sign -n git\`
  flant-gitops signatures push [--remote NAME]
      merge the remote's signature notes in, then push refs/notes/signatures and the
      latest-signature tag (default remote: origin)
  flant-gitops signatures show [COMMIT] [--mount NAME] [--addr URL] [--token-file FILE] [--json]
      the signatures a commit carries and the trusted keys of the mount they belong to
      (--addr default $VAULT_ADDR, token from --token-file or $VAULT_TOKEN, mount flant_gitops)
`;

const fail = (message: string, code = 1): number => {
  process.stderr.write(`signatures: ${message}\n`);
  return code;
};

async function add(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ref: { type: 'string' },
      key: { type: 'string' },
      'ssh-key': { type: 'string' },
      push: { type: 'boolean' },
      remote: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1 || (values.ref !== undefined && positionals.length > 0)) {
    return fail(`add takes one commit or --ref\n\n${SIGNATURES_USAGE}`, 2);
  }
  const repo = openWorkRepo();
  const commit = await repo.resolveCommit(values.ref ?? positionals[0] ?? 'HEAD');
  const key = values.key ?? (await repo.config('user.signingKey'));
  const sshKey =
    values['ssh-key'] ?? ((await repo.config('gpg.format')) === 'ssh' ? key : undefined);
  if ((await repo.config('gpg.format')) === 'ssh' && !sshKey) {
    return fail('gpg.format is ssh: give --ssh-key FILE or set user.signingKey', 2);
  }
  let line: string;
  if (sshKey) {
    line = await sshSignNoteLine(commit, { key: sshKey, env });
  } else {
    const program = (await repo.config('gpg.program')) ?? 'gpg';
    line = noteLine(await gpgDetachSign(commit, { program, env, ...(key ? { key } : {}) }));
  }
  const notesCommit = await repo.appendSignature(commit, line);
  process.stdout.write(`signed ${commit} (notes ${notesCommit}, latest-signature moved)\n`);
  if (values.push) await repo.pushSignatures(values.remote ?? 'origin');
  return 0;
}

async function push(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { remote: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) return fail(`push takes no arguments\n\n${SIGNATURES_USAGE}`, 2);
  const remote = values.remote ?? 'origin';
  await openWorkRepo().pushSignatures(remote);
  process.stdout.write(`pushed refs/notes/signatures and latest-signature to ${remote}\n`);
  return 0;
}

async function show(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      mount: { type: 'string' },
      addr: { type: 'string' },
      'token-file': { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1)
    return fail(`show takes at most one commit\n\n${SIGNATURES_USAGE}`, 2);
  const addr = values.addr ?? env.VAULT_ADDR;
  if (!addr) return fail('show needs --addr or VAULT_ADDR (the flant-gitops service)', 2);
  const tokenFile = values['token-file'];
  const token = tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : env.VAULT_TOKEN;
  if (!token) return fail('show needs --token-file or VAULT_TOKEN', 2);
  const target = { addr, token, mount: values.mount ?? 'flant_gitops' };
  const repo = openWorkRepo();
  const commit = await repo.resolveCommit(positionals[0] ?? 'HEAD');
  const [keys, sshKeys, required] = await Promise.all([
    fetchTrustedKeys(target),
    fetchTrustedSshKeys(target),
    fetchRequired(target),
  ]);
  const verifier = createOpenPgpVerifier();
  const shown = await showSignatures(repo, commit, keys, required, verifier, sshKeys);
  process.stdout.write(values.json ? `${JSON.stringify(jsonShown(shown))}\n` : formatShown(shown));
  return 0;
}

/** Run `flant-gitops signatures <sub> …`; returns the exit code. */
export async function signaturesCommand(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'add':
        return await add(rest, env);
      case 'push':
        return await push(rest);
      case 'show':
        return await show(rest, env);
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(SIGNATURES_USAGE);
        return sub === undefined ? 2 : 0;
      default:
        return fail(`unknown subcommand ${JSON.stringify(sub)}\n\n${SIGNATURES_USAGE}`, 2);
    }
  } catch (e) {
    return fail(isAppError(e) ? e.reason : e instanceof Error ? e.message : String(e));
  }
}
