/**
 * The messages between the service and its git host process (host/client.ts ↔ host/serve.ts),
 * and how an error crosses the pipe. Node's IPC channel with `serialization: 'advanced'` (the V8
 * serializer) carries plain objects and Uint8Array, not classes: an AppError arrives as a plain
 * object, so it is written here as its fields and built again on the other side — the pipeline
 * decides retry vs. stop by `code` and `details`, which therefore must arrive intact.
 */
import { AppError, ErrorCodes, type ErrorCode, type NextStep } from '../../errors.js';
import type { GitCounters, GitRemoteSpec } from '../types.js';

/** The host's process title (also its /proc comm), for ps and the benchmark's sampler. */
export const GIT_HOST_TITLE = 'fg-git-host';

/** What the host's SimpleGitMirrorFactory is built with (sent once, first message). */
export interface HostInit {
  readonly t: 'init';
  readonly timeoutMs?: number;
  readonly tmpDir?: string;
  readonly safeDirectories?: readonly string[];
  readonly configFile?: string;
  /** The bound on git processes of the host (`--git-concurrency`). */
  readonly concurrency?: number;
}

/** The GitMirror methods a call may name (everything but `counters`). */
export const MIRROR_METHODS = [
  'lsRemote',
  'fetch',
  'localRefs',
  'isAncestor',
  'readCommit',
  'readSignatureNotes',
  'exportTree',
] as const;

/** One of MIRROR_METHODS. */
export type MirrorMethod = (typeof MIRROR_METHODS)[number];

/**
 * Open mirror `handle` (a number the client chose) on `dir`. The spec carries the remote's
 * credentials: they travel only over this pipe, never in the host's argv or environment.
 */
export interface OpenRequest {
  readonly t: 'open';
  readonly id: number;
  readonly handle: number;
  readonly dir: string;
  readonly spec: GitRemoteSpec;
}

/** Call `method(...args)` on the mirror opened as `handle`. */
export interface CallRequest {
  readonly t: 'call';
  readonly id: number;
  readonly handle: number;
  readonly method: MirrorMethod;
  readonly args: readonly unknown[];
}

/**
 * Forget mirror `handle` (no reply): its proxy was garbage-collected. The pipeline opens a mirror
 * per poll, so without this the host would keep one per poll forever.
 */
export interface CloseRequest {
  readonly t: 'close';
  readonly handle: number;
}

/** Service → host. */
export type HostRequest = HostInit | OpenRequest | CallRequest | CloseRequest;

/** The host's git slots (concurrency.ts) as of a reply. */
export interface SlotStats {
  readonly limit: number;
  readonly active: number;
  readonly waiting: number;
  readonly maxActive: number;
}

/** An error as it crosses the pipe. */
export interface WireError {
  /** `AppError` for ours; otherwise the error's own name (`Error`, `TypeError`, …). */
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly next?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: WireError;
}

/** Host → service: the answer to request `id`, with the host's slot use and the mirror's counters. */
export type HostReply = {
  readonly t: 'reply';
  readonly id: number;
  readonly slots: SlotStats;
  /** The mirror's counters in this host after the call (absent when the open failed). */
  readonly counters?: GitCounters;
} & (
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError }
);

/** Host → service: a half-made mirror dir was rebuilt (for the service's log). */
export interface RebuildEvent {
  readonly t: 'rebuild';
  readonly mirrorDir: string;
  readonly missing: readonly string[];
}

/** Host → service. */
export type HostMessage = HostReply | RebuildEvent;

const MAX_CAUSE_DEPTH = 4;

/** An error as plain data (AppError fields kept; other errors: name, message, errno code). */
export function errorToWire(e: unknown, depth = 0): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const cause =
    e.cause !== undefined && depth < MAX_CAUSE_DEPTH ? errorToWire(e.cause, depth + 1) : undefined;
  if (e instanceof AppError) {
    return {
      name: 'AppError',
      message: e.reason,
      code: e.code,
      next: e.next,
      ...(e.details === undefined ? {} : { details: plainDetails(e.details) }),
      ...(cause === undefined ? {} : { cause }),
    };
  }
  const code = (e as NodeJS.ErrnoException).code;
  return {
    name: e.name,
    message: e.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(cause === undefined ? {} : { cause }),
  };
}

/** Details are ours (strings, numbers, small objects); anything the serializer refuses goes. */
function plainDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return structuredClone({ ...details });
  } catch {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  }
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && Object.hasOwn(ErrorCodes, code);
}

const NEXT_STEPS: readonly string[] = ['user', 'retry-later', 'retry-now'];

/** The error again: an AppError for an AppError (same code, reason, details, next), else Error. */
export function errorFromWire(w: WireError): Error {
  const cause = w.cause === undefined ? undefined : errorFromWire(w.cause);
  if (w.name === 'AppError' && isErrorCode(w.code)) {
    return new AppError(w.code, w.message, {
      ...(w.details === undefined ? {} : { details: { ...w.details } }),
      ...(cause === undefined ? {} : { cause }),
      ...(w.next !== undefined && NEXT_STEPS.includes(w.next) ? { next: w.next as NextStep } : {}),
    });
  }
  const e = new Error(w.message, cause === undefined ? undefined : { cause });
  e.name = w.name;
  if (w.code !== undefined) Object.assign(e, { code: w.code });
  return e;
}
