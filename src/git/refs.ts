/**
 * Pure helpers over ref snapshots: parsing what git prints, deciding what a poll must fetch, and
 * where a note may sit in a notes tree. No git is run here, so all of it is unit-tested.
 */
import type { RemoteRefs } from './types.js';

/** The full names of the three refs a mount follows. */
export interface TrackedRefNames {
  readonly branch: string;
  readonly notes: 'refs/notes/signatures';
  readonly latestSignatureTag: 'refs/tags/latest-signature';
}

/** Ref names for `branch` (already validated). */
export function trackedRefNames(branch: string): TrackedRefNames {
  return {
    branch: `refs/heads/${branch}`,
    notes: 'refs/notes/signatures',
    latestSignatureTag: 'refs/tags/latest-signature',
  };
}

/** A git object id (SHA-1 or SHA-256), lower-case hex. */
export function isObjectId(s: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(s);
}

/**
 * Parse `<oid>\t<refname>` lines (ls-remote) into RemoteRefs, keeping only the exact names we
 * asked for (git matches patterns by suffix) and the peeled `^{}` line of an annotated tag.
 */
export function parseRefLines(text: string, names: TrackedRefNames): RemoteRefs {
  const byName = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [oid, name] = line.trim().split(/\s+/, 2);
    if (oid === undefined || name === undefined || !isObjectId(oid)) continue;
    byName.set(name, oid);
  }
  const tagName = names.latestSignatureTag;
  const tag = byName.get(tagName);
  const branch = byName.get(names.branch);
  const notes = byName.get(names.notes);
  return {
    ...(branch !== undefined ? { branch } : {}),
    ...(notes !== undefined ? { notes } : {}),
    ...(tag !== undefined
      ? { latestSignatureTag: tag, latestSignatureCommit: byName.get(`${tagName}^{}`) ?? tag }
      : {}),
  };
}

/** True when two snapshots name the same objects for all three refs. */
export function sameRefs(a: RemoteRefs, b: RemoteRefs): boolean {
  return (
    a.branch === b.branch && a.notes === b.notes && a.latestSignatureTag === b.latestSignatureTag
  );
}

/** What a fetch must do to make the mirror match `remote`. */
export interface FetchPlan {
  /** Explicit forced refspecs `+<ref>:<ref>` for refs that are new or moved. */
  readonly refspecs: readonly string[];
  /** Local refs the remote no longer advertises (deleted so stale notes are never read). */
  readonly deletions: readonly string[];
}

/** Compare the advertised refs with the mirror's own and list exactly what changed. */
export function planFetch(
  remote: RemoteRefs,
  local: RemoteRefs,
  names: TrackedRefNames,
): FetchPlan {
  const refspecs: string[] = [];
  const deletions: string[] = [];
  for (const key of ['branch', 'notes', 'latestSignatureTag'] as const) {
    const r = remote[key];
    const l = local[key];
    const name = names[key];
    if (r !== undefined && r !== l) refspecs.push(`+${name}:${name}`);
    if (r === undefined && l !== undefined) deletions.push(name);
  }
  return { refspecs, deletions };
}

/**
 * Paths at which git may store the note of `commit` in a notes tree: flat `<hex>`, then fanned
 * out by one byte per level (`ab/cdef…`, `ab/cd/ef…`, …), shallowest first.
 */
export function notePathCandidates(commit: string): string[] {
  const out: string[] = [];
  for (let levels = 0; levels * 2 < commit.length - 2; levels++) {
    const dirs: string[] = [];
    for (let i = 0; i < levels; i++) dirs.push(commit.slice(i * 2, i * 2 + 2));
    out.push([...dirs, commit.slice(levels * 2)].join('/'));
  }
  return out;
}

/**
 * Object ids of `wanted` refs as stored in a files-backend repository: a loose ref file's content
 * (`loose`, undefined when absent) wins over the `packed-refs` line of the same name. Returns
 * undefined when something is not a plain object id (a symbolic ref, a torn read), so the caller
 * asks git instead.
 */
export function storedRefIds(
  wanted: readonly string[],
  loose: ReadonlyMap<string, string | undefined>,
  packedRefs: string,
): Map<string, string> | undefined {
  const packed = new Map<string, string>();
  for (const line of packedRefs.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const sp = line.indexOf(' ');
    packed.set(line.slice(sp + 1), line.slice(0, sp));
  }
  const out = new Map<string, string>();
  for (const name of wanted) {
    const l = loose.get(name);
    const oid = l === undefined ? packed.get(name) : l.trim();
    if (oid === undefined) continue;
    if (!isObjectId(oid)) return undefined;
    out.set(name, oid);
  }
  return out;
}
