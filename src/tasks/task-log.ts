/**
 * The task log: durable, bounded and written in batches. A command can print gigabytes; we keep
 * the first and the last half of `limitChars` with a marker in between, and we write the log to
 * the store at most every `flushMs` (and at the end), never once per output chunk.
 *
 * Offsets and limits are in characters (UTF-16 code units), as the original plugin sliced its log
 * text: `offset=0 limit=500` returns the first 500 characters; `limit=0` returns the rest.
 */
import { StorageKeys } from '../config/stored.js';
import type { Logger } from '../logging.js';
import type { Store } from '../storage/store.js';

/** The value at `task_log/<uuid>`. */
export interface StoredTaskLog {
  readonly text: string;
  /** Characters dropped from the middle (0 when the log is complete). */
  readonly omitted: number;
}

/** 1 MiB of characters per task. */
export const DEFAULT_LOG_LIMIT_CHARS = 1024 * 1024;
/** At most five store writes per second per running task. */
export const DEFAULT_LOG_FLUSH_MS = 200;
/** `task/<uuid>/log` returns this many characters unless told otherwise (as the original). */
export const DEFAULT_LOG_READ_LIMIT = 500;

/** The line put where the middle of an oversized log was dropped. */
export function omittedMarker(omitted: number): string {
  return `\n[... ${omitted} characters omitted ...]\n`;
}

/** Text that keeps its head and its tail once it grows past `limitChars`. */
export interface BoundedText {
  append(chunk: string): void;
  snapshot(): StoredTaskLog;
}

/** Create a bounded text: head and tail halves of `limitChars`, middle dropped and counted. */
export function createBoundedText(limitChars: number): BoundedText {
  const headMax = Math.floor(limitChars / 2);
  const tailMax = limitChars - headMax;
  let head = '';
  let split = false;
  let total = 0;
  const tail: string[] = [];
  let tailLen = 0;

  const pushTail = (s: string): void => {
    tail.push(s);
    tailLen += s.length;
    // Drop whole chunks while what remains still covers the tail we keep.
    while (tail.length > 1 && tailLen - (tail[0]?.length ?? 0) >= tailMax) {
      tailLen -= tail.shift()?.length ?? 0;
    }
  };

  return {
    append(chunk) {
      if (chunk.length === 0) return;
      total += chunk.length;
      if (!split && head.length + chunk.length <= limitChars) {
        head += chunk;
        return;
      }
      if (!split) {
        split = true;
        const all = head + chunk;
        head = all.slice(0, headMax);
        pushTail(all.slice(headMax));
        return;
      }
      pushTail(chunk);
    },
    snapshot() {
      if (!split) return { text: head, omitted: 0 };
      let tailText = tail.join('');
      if (tailText.length > tailMax) tailText = tailText.slice(tailText.length - tailMax);
      const omitted = total - head.length - tailText.length;
      return {
        text: omitted > 0 ? head + omittedMarker(omitted) + tailText : head + tailText,
        omitted,
      };
    },
  };
}

/** Options of a log writer. */
export interface TaskLogWriterOptions {
  readonly store: Store;
  readonly uuid: string;
  readonly logger: Logger;
  readonly limitChars?: number;
  readonly flushMs?: number;
}

/** Appends output to a task's log in memory and writes it to the store in batches. */
export interface TaskLogWriter {
  append(chunk: string): void;
  /** Write now what is pending, and wait for every write so far. */
  flush(): Promise<void>;
}

/** Create the batched writer of one task's log. Write errors are logged, never thrown at the run. */
export function createTaskLogWriter(opts: TaskLogWriterOptions): TaskLogWriter {
  const text = createBoundedText(opts.limitChars ?? DEFAULT_LOG_LIMIT_CHARS);
  const flushMs = opts.flushMs ?? DEFAULT_LOG_FLUSH_MS;
  const key = StorageKeys.taskLog(opts.uuid);
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const writeNow = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (dirty) {
      dirty = false;
      const value = text.snapshot();
      writing = writing
        .then(() => opts.store.put(key, value))
        .then(
          () => undefined,
          (e: unknown) =>
            opts.logger.warn({ task: opts.uuid, err: String(e) }, 'task log write failed'),
        );
    }
    return writing;
  };

  return {
    append(chunk) {
      text.append(chunk);
      dirty = true;
      if (timer === undefined) {
        timer = setTimeout(() => void writeNow(), flushMs);
        timer.unref();
      }
    },
    flush: writeNow,
  };
}

/** The stored log text of a task, or undefined when the task has no log. */
export async function readTaskLogText(store: Store, uuid: string): Promise<string | undefined> {
  return (await store.get<StoredTaskLog>(StorageKeys.taskLog(uuid)))?.value.text;
}

/** The characters [offset, offset + limit) of `text`; limit 0 means "to the end". */
export function sliceLog(text: string, offset: number, limit: number): string {
  return limit === 0 ? text.slice(offset) : text.slice(offset, offset + limit);
}
