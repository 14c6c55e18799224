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
}

/** Counters a test or a metric can read to see what a poll really did. */
export interface GitCounters {
  lsRemote: number;
  fetch: number;
}

/** A persistent bare mirror of one remote, owned by one mount. */
export interface GitMirror {
  /** Ask the remote for the three refs (one ls-remote, no fetch). */
  lsRemote(): Promise<RemoteRefs>;
  /** Fetch exactly those refs incrementally into the mirror. */
  fetch(refs: RemoteRefs): Promise<void>;
  /** True when `ancestor` is an ancestor of (or equal to) `descendant`. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** The raw commit object (what `git cat-file commit <id>` prints), byte for byte. */
  readCommit(commit: string): Promise<Uint8Array>;
  /**
   * The note attached to `commit` on the fetched signatures notes (refs/notes/signatures, or the
   * notes commit the latest-signature tag points to), flat or fanned-out; undefined when none.
   */
  readSignatureNotes(
    commit: string,
    source: 'notes-ref' | 'latest-signature-tag',
  ): Promise<string | undefined>;
  /** Write the commit's tree (no .git) into `dir`, which must exist and be empty. */
  exportTree(commit: string, dir: string): Promise<void>;
  /** Calls made so far (ls-remote, fetch). */
  readonly counters: Readonly<GitCounters>;
}

/** Opens the mirror of a mount (creating it on first use). */
export interface GitMirrorFactory {
  open(mirrorDir: string, spec: GitRemoteSpec): Promise<GitMirror>;
}
