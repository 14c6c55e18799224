/**
 * The git capability the pipeline needs, in our own types. Only src/git/ implements it (over
 * simple-git); everything else depends on this file alone.
 */

/** How to authenticate to the remote. Secrets here live only in memory and 0600 temp files. */
export type GitAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'ssh'; readonly privateKey: string; readonly knownHosts: string };

/** Which remote and branch a mount follows. */
export interface GitRemoteSpec {
  readonly url: string;
  readonly branch: string;
  readonly auth: GitAuth;
}

/** Object ids the remote advertised for the refs we care about (absent = no such ref). */
export interface RemoteRefs {
  /** refs/heads/<branch> */
  readonly branch?: string;
  /** refs/notes/signatures */
  readonly notes?: string;
  /** refs/tags/latest-signature as advertised (a tag object id when annotated). */
  readonly latestSignatureTag?: string;
  /**
   * The object the latest-signature tag peels to (the `^{}` line of an annotated tag; equal to
   * `latestSignatureTag` for a lightweight one). Not part of the fetch decision.
   */
  readonly latestSignatureCommit?: string;
}

/** Counters a test or a metric can read to see what a poll really did. */
export interface GitCounters {
  lsRemote: number;
  fetch: number;
}

/** A signature note too large to read: its size in bytes, from the notes tree listing. */
export interface OversizedNote {
  readonly oversizedBytes: number;
}

/** A persistent bare mirror of one remote, owned by one mount. */
export interface GitMirror {
  /** Ask the remote for the three refs (one ls-remote, no fetch). */
  lsRemote(): Promise<RemoteRefs>;
  /**
   * Fetch incrementally exactly those of `refs` that differ from the mirror's own (see
   * `localRefs`), with explicit refspecs and `--no-tags`; refs the remote no longer has are deleted
   * locally. A no-op (no git fetch, `counters.fetch` unchanged) when nothing changed, so the
   * pipeline may either compare `sameRefs(remote, await localRefs())` itself or just call this.
   * If the remote moved between ls-remote and fetch, the mirror holds the newer state.
   */
  fetch(refs: RemoteRefs): Promise<void>;
  /** The three refs as the mirror holds them now (no network). */
  localRefs(): Promise<RemoteRefs>;
  /** True when `ancestor` is an ancestor of (or equal to) `descendant`. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** The raw commit object (what `git cat-file commit <id>` prints), byte for byte. */
  readCommit(commit: string): Promise<Uint8Array>;
  /**
   * The note attached to `commit` on the fetched signatures notes (refs/notes/signatures, or the
   * notes commit the latest-signature tag points to), flat or fanned-out; undefined when none.
   * A note over NOTE_MAX_BYTES (src/config/limits.ts) is not read: only its size is returned.
   */
  readSignatureNotes(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | OversizedNote | undefined>;
  /** Write the commit's tree (no .git) into `dir`, which must exist and be empty. */
  exportTree(commit: string, dir: string): Promise<void>;
  /** Remote calls made so far (ls-remote, and fetches that really ran). */
  readonly counters: Readonly<GitCounters>;
}

/** Opens the mirror of a mount (creating it on first use). */
export interface GitMirrorFactory {
  open(mirrorDir: string, spec: GitRemoteSpec): Promise<GitMirror>;
}
