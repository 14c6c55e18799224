/**
 * The plugin's Logger: one hclog-style JSON object per line on stderr, which go-plugin parses
 * and re-logs inside OpenBao's own log. go-plugin type-asserts `@level`, `@message` and
 * `@timestamp` to strings without checking (a number there crashes OpenBao's log goroutine), and
 * parses `@timestamp` only with exactly six fractional digits, so both are produced here and
 * nowhere else. Secrets are redacted by key name (the service's REDACTED_KEYS) at any depth.
 * A closed stderr (host gone: EPIPE) must never crash the plugin; an optional log file
 * (FLANT_GITOPS_PLUGIN_LOG_FILE) helps where OpenBao hides a plugin's stderr (registration).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { boundLogFields, REDACTED_KEYS, type LogLevel, type Logger } from '../logging.js';

const RANK: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 99,
};
const REDACT = new Set<string>(REDACTED_KEYS);

/** Where the lines go; `write` must not throw. */
export interface LineSink {
  write(line: string): void;
  close?(): void;
}

/** `2006-01-02T15:04:05.000000Z07:00` in UTC: six fractional digits, as hclog writes them. */
export function hclogTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** A copy of `v` fit for a log line: secrets by key name replaced, errors as their message. */
export function redactForLog(v: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (v instanceof Error) return v.message;
  if (Array.isArray(v)) return v.map((x) => redactForLog(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      out[k] = REDACT.has(k.toLowerCase()) ? '[REDACTED]' : redactForLog(x, depth + 1);
    }
    return out;
  }
  return typeof v === 'bigint' ? v.toString() : v;
}

/** stderr as a sink: EPIPE and friends are swallowed (nobody is left to read them). */
export function stderrSink(): LineSink {
  process.stderr.on('error', () => undefined);
  return {
    write(line) {
      try {
        process.stderr.write(line);
      } catch {
        // stderr is gone: the host died; the broker stream's end will stop the process.
      }
    },
  };
}

/** An append-only file sink for development (the file is opened once, mode 0600). */
export function fileSink(path: string): LineSink {
  const fd = openSync(path, 'a', 0o600);
  return {
    write(line) {
      try {
        writeSync(fd, line);
      } catch {
        // a full disk must not stop the plugin
      }
    },
    close: () => closeSync(fd),
  };
}

/** Options of the hclog logger. */
export interface HclogOptions {
  readonly sinks: readonly LineSink[];
  readonly level?: LogLevel;
  /** `@module` of every line (go-plugin prefixes it with the plugin's name). */
  readonly module?: string;
  readonly now?: () => Date;
}

/** Create a Logger writing hclog JSON lines to every sink. */
export function createHclogLogger(
  opts: HclogOptions,
  bindings: Record<string, unknown> = {},
): Logger {
  const min = RANK[opts.level ?? 'info'];
  const now = opts.now ?? (() => new Date());
  const emit = (
    level: Exclude<LogLevel, 'silent'>,
    fields: Record<string, unknown>,
    msg: string,
  ) => {
    if (RANK[level] < min) return;
    const body = boundLogFields(redactForLog({ ...bindings, ...fields })) as Record<
      string,
      unknown
    >;
    const line = `${JSON.stringify({
      ...body,
      '@level': level,
      '@message': String(msg),
      '@module': opts.module ?? 'flant_gitops',
      '@timestamp': hclogTimestamp(now()),
    })}\n`;
    for (const s of opts.sinks) s.write(line);
  };
  return {
    debug: (f, m) => emit('debug', f, m),
    info: (f, m) => emit('info', f, m),
    warn: (f, m) => emit('warn', f, m),
    error: (f, m) => emit('error', f, m),
    child: (b) => createHclogLogger(opts, { ...bindings, ...b }),
  };
}
