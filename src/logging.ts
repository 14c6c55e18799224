/**
 * Structured logging: static messages, details in fields, secrets redacted by key name wherever
 * they appear in a logged object. pino is created only here; the rest of the code sees `Logger`.
 */
import { pino, type DestinationStream } from 'pino';

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

/** Create the service logger; `destination` lets tests capture output to scan it for secrets. */
export function createLogger(
  opts: { level?: LogLevel; destination?: DestinationStream } = {},
): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: 'flant-gitops' },
    redact: { paths: redactPaths(), censor: '[REDACTED]' },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything (unit tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
