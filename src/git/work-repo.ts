/**
 * The approver's own working repository, for `flant-gitops signatures …`: resolve what to sign to
 * an object id, append a signature line to the commit's note on refs/notes/signatures, move the
 * `latest-signature` tag, and push both as werf's `git signatures push` does. Unlike the mirror,
 * git runs here with the user's own environment and config (their remotes, credentials and
 * identity are what they expect to be used), and never with a timeout that would cut off a
 * credential prompt.
 */
import { simpleGit, type SimpleGit } from 'simple-git';
import { AppError } from '../errors.js';
import { notePathCandidates } from './refs.js';

/** The notes ref werf's tool and our gate read. */
export const SIGNATURES_NOTES_REF = 'refs/notes/signatures';
/** The tag werf's tool moves to the newest notes commit. */
export const LATEST_SIGNATURE_TAG_REF = 'refs/tags/latest-signature';
/** Where `push` keeps the remote's notes before merging them (as werf's `pull` does). */
const REMOTE_NOTES_REF = 'refs/notes/origin/signatures';

/** A working repository (or a bare one) of the approver. */
export interface WorkRepo {
  /** The commit `ref` names, as a 40/64-hex object id; never a symbolic ref's own output. */
  resolveCommit(ref: string): Promise<string>;
  /** The raw commit object, byte for byte. */
  readCommit(commit: string): Promise<Uint8Array>;
  /** The commit's note in refs/notes/signatures or in the latest-signature tag's notes commit. */
  readNote(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | undefined>;
  /** Append one line to the commit's note and move `latest-signature` to the new notes commit. */
  appendSignature(commit: string, base64Line: string): Promise<string>;
  /** Merge the remote's notes in (cat_sort_uniq), move the tag, push notes and tag to `remote`. */
  pushSignatures(remote: string): Promise<void>;
  /** `git config <key>`, or undefined when unset. */
  config(key: string): Promise<string | undefined>;
}

function failed(op: string, e: unknown): AppError {
  const message = e instanceof Error ? e.message.trim() : String(e);
  return new AppError('GIT_FAILED', `git ${op} failed: ${message}`, { cause: e });
}

async function optional(g: SimpleGit, args: string[]): Promise<string | undefined> {
  try {
    const out = (await g.raw(args)).trim();
    return out === '' ? undefined : out;
  } catch {
    return undefined;
  }
}

/** Open the repository at `dir` (the current directory by default). */
export function openWorkRepo(dir: string = process.cwd()): WorkRepo {
  const g = simpleGit({ baseDir: dir, trimmed: false });

  async function readNote(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | undefined> {
    const ref = source === 'notes-ref' ? SIGNATURES_NOTES_REF : LATEST_SIGNATURE_TAG_REF;
    const notesCommit = await optional(g, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    if (notesCommit === undefined) return undefined;
    const listing = await g.raw([
      'ls-tree',
      '-z',
      notesCommit,
      '--',
      ...notePathCandidates(commit),
    ]);
    for (const entry of listing.split('\0')) {
      const m = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(entry);
      if (m?.[1] === undefined || m[2]?.replace(/\//g, '') !== commit) continue;
      return (await g.binaryCatFile(['blob', m[1]])).toString('utf8');
    }
    return undefined;
  }

  async function moveTag(): Promise<string> {
    const notesCommit = (await g.raw(['rev-parse', SIGNATURES_NOTES_REF])).trim();
    await g.raw(['tag', '-f', 'latest-signature', notesCommit]);
    return notesCommit;
  }

  return {
    async resolveCommit(ref) {
      const id = await optional(g, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
      if (id === undefined || !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(id)) {
        throw new AppError('INVALID_INPUT', `${ref} does not name a commit in this repository`);
      }
      return id;
    },
    async readCommit(commit) {
      return new Uint8Array(await g.binaryCatFile(['commit', commit]));
    },
    readNote,
    async appendSignature(commit, line) {
      try {
        await g.raw(['notes', '--ref', SIGNATURES_NOTES_REF, 'append', '-m', line, commit]);
        return await moveTag();
      } catch (e) {
        throw failed('notes append', e);
      }
    },
    async pushSignatures(remote) {
      try {
        const remoteHas = (await g.raw(['ls-remote', remote, SIGNATURES_NOTES_REF])).trim() !== '';
        if (remoteHas) {
          await g.raw([
            'fetch',
            '--no-tags',
            remote,
            `+${SIGNATURES_NOTES_REF}:${REMOTE_NOTES_REF}`,
          ]);
          await g.raw([
            'notes',
            '--ref',
            SIGNATURES_NOTES_REF,
            'merge',
            '-q',
            '-s',
            'cat_sort_uniq',
            REMOTE_NOTES_REF,
          ]);
        }
        await moveTag();
        await g.raw(['push', remote, SIGNATURES_NOTES_REF, `+${LATEST_SIGNATURE_TAG_REF}`]);
      } catch (e) {
        throw failed('push of the signatures', e);
      }
    },
    config: (key) => optional(g, ['config', '--get', key]),
  };
}
