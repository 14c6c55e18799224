/**
 * Structured logging: static messages, details in fields, secrets redacted by key name wherever
 * they appear in a logged object. pino is created only here; the rest of the code sees `Logger`.
 */
import { pino, type DestinationStream } from 'pino';
import { LOG_VALUE_MAX_CHARS, truncateText } from './config/limits.js';

/** Minimal logger contract used across the service (pino satisfies it). */
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Field names whose values are never written to a log, at any depth we know of. */
export const REDACTED_KEYS = [
  'token',
  'client_token',
  'secret_id',
  'secret',
  'password',
  'private_key',
  'ssh_private_key',
  'root_token',
  'wrap_token',
  'authorization',
  'x-vault-token',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitea-signature',
  'x-forgejo-signature',
  'x-gogs-signature',
  'x-gitlab-token',
  'webhook-signature',
  'x-signature',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const k of REDACTED_KEYS) {
    const key = /^[a-z_]+$/.test(k) ? k : `["${k}"]`;
    const sep = key.startsWith('[') ? '' : '.';
    paths.push(key, `*${sep}${key}`, `*.*${sep}${key}`, `*.*.*${sep}${key}`);
  }
  return paths;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * A log line's fields with every string cut to LOG_VALUE_MAX_CHARS (saying how much was left
 * out), so no value a pusher or caller controls makes a multi-megabyte line. Walks plain objects
 * and arrays a few levels deep; anything deeper is logged as it is.
 */
export function boundLogFields(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return truncateText(v, LOG_VALUE_MAX_CHARS);
  if (depth >= 4 || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => boundLogFields(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = boundLogFields(x, depth + 1);
  return out;
}

/** Create the service logger; `destination` lets tests capture output to scan it for secrets. */
export function createLogger(
  opts: { level?: LogLevel; destination?: DestinationStream } = {},
): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: 'flant-gitops' },
    redact: { paths: redactPaths(), censor: '[REDACTED]' },
    formatters: {
      log: (o: Record<string, unknown>) => boundLogFields(o) as Record<string, unknown>,
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything (unit tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
