/**
 * Field parsing shared by every API path. The `vault`/`bao` CLI sends `key=value` pairs as JSON
 * strings, while a JSON body may carry real numbers, lists and objects; these zod builders accept
 * both forms and normalise them (durations → integer seconds, comma strings → lists, …).
 * Every rule failure becomes one message "<field>: <rule>", and a write reports all of them at once.
 */
import { z } from 'zod';
import { AppError } from '../errors.js';
import { NAME_PATTERN, NAME_RULE } from '../config/rules/names.js';

/** Seconds per Go duration unit (`time.ParseDuration`). */
const GO_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * Parse a duration as Vault does (`parseutil.ParseDurationSecond`): integer seconds (number or
 * digits) or a Go duration string (`90s`, `5m`, `1h30m`, `1.5h`), truncated to whole seconds.
 * Returns undefined for anything else, including negative durations.
 */
export function parseDurationSeconds(input: unknown): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  if (typeof input !== 'string') return undefined;
  const s = input.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (
    s === '' ||
    !/^(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))*$/.test(
      s,
    )
  ) {
    return undefined;
  }
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * (GO_UNITS[m[2] ?? ''] ?? Number.NaN);
  }
  // Tolerate float error (0.1h = 360 s) before truncating as Go's Duration/time.Second does.
  const secs = Math.floor(total + 1e-9);
  return Number.isSafeInteger(secs) ? secs : undefined;
}

/** The outcome of one field parser: a value or the rule it broke. */
type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly rule: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (rule: string): Parsed<never> => ({ ok: false, rule });

/** Options shared by the field builders. */
export interface FieldOptions<T> {
  /** Value when the field is absent (or null); without it the field is required. */
  readonly default?: T;
}

/**
 * Build a zod schema from a parser: absent/null → default or "is required"; otherwise the
 * parser decides, and a failure is reported with the rule as the message.
 */
function field<T>(parse: (v: unknown) => Parsed<T>, opts: FieldOptions<T>): z.ZodType<T> {
  return z
    .unknown()
    .optional()
    .transform((v, ctx): T => {
      if (v === undefined || v === null) {
        if (opts.default !== undefined) return opts.default;
        ctx.addIssue({ code: 'custom', message: 'is required' });
        return z.NEVER;
      }
      const r = parse(v);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.rule });
      return z.NEVER;
    }) as unknown as z.ZodType<T>;
}

/** A string; `check` returns the broken rule or undefined. */
export function stringField(
  opts: FieldOptions<string> & {
    readonly check?: (s: string) => string | undefined;
    readonly nonEmpty?: boolean;
  } = {},
): z.ZodType<string> {
  return field((v) => {
    if (typeof v !== 'string') return bad('must be a string');
    if (opts.nonEmpty && v.trim() === '') return bad('must not be empty');
    const rule = opts.check?.(v);
    return rule === undefined ? ok(v) : bad(rule);
  }, opts);
}

/** An integer from a JSON number or a string of digits, within bounds. */
export function intField(
  opts: FieldOptions<number> & { readonly min?: number; readonly max?: number } = {},
): z.ZodType<number> {
  return field((v) => {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) n = Number(v.trim());
    else return bad('must be an integer');
    if (!Number.isSafeInteger(n)) return bad('must be an integer');
    if (opts.min !== undefined && n < opts.min) return bad(`must be at least ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) return bad(`must be at most ${opts.max}`);
    return ok(n);
  }, opts);
}

/** A duration (integer seconds or Go duration string) → integer seconds, at least `min`. */
export function durationField(
  opts: FieldOptions<number> & { readonly min?: number } = {},
): z.ZodType<number> {
  return field((v) => {
    const n = parseDurationSeconds(v);
    if (n === undefined) {
      return bad('must be a duration: integer seconds or a Go duration like 90s, 5m, 1h30m');
    }
    if (opts.min !== undefined && n < opts.min) return bad(`must be at least ${opts.min}s`);
    return ok(n);
  }, opts);
}

/** The string form of a JSON list of strings (`["a, b", "c"]`), or undefined. */
function jsonStringList(s: string): string[] | undefined {
  if (!s.trim().startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x): x is string => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A JSON list of strings or a comma-separated string, each item trimmed (empties kept, so a
 * rule can refuse them). A string holding a JSON list (`commands='["echo a, b"]'` from the CLI)
 * is read as that list, so an item can contain a comma.
 */
export function commaListField(opts: FieldOptions<readonly string[]> = {}): z.ZodType<string[]> {
  return field<string[]>(
    (v) => {
      const fromJson = typeof v === 'string' ? jsonStringList(v) : undefined;
      if (fromJson) return ok(fromJson.map((s) => s.trim()));
      if (typeof v === 'string')
        return ok(v.trim() === '' ? [] : v.split(',').map((s) => s.trim()));
      if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) {
        return ok(v.map((s) => s.trim()));
      }
      return bad('must be a list of strings or a comma-separated string');
    },
    opts.default === undefined ? {} : { default: [...opts.default] },
  );
}

/** A JSON object, given as an object or as a string holding JSON. */
export function objectField(
  opts: FieldOptions<Record<string, unknown>> = {},
): z.ZodType<Record<string, unknown>> {
  return field((v) => {
    let o: unknown = v;
    if (typeof v === 'string') {
      if (v.trim() === '') return ok({});
      try {
        o = JSON.parse(v);
      } catch {
        return bad('must be a JSON object');
      }
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      return bad('must be a JSON object');
    return ok(o as Record<string, unknown>);
  }, opts);
}

/** A name as used in paths: Vault's `^\w(([\w.-]+)?\w)?$`. */
export function nameField(opts: FieldOptions<string> = {}): z.ZodType<string> {
  return stringField({ ...opts, check: (s) => (NAME_PATTERN.test(s) ? undefined : NAME_RULE) });
}

/** Throw INVALID_INPUT naming the field when a path capture is not a valid name. */
export function assertName(field: string, value: string): void {
  if (!NAME_PATTERN.test(value)) throw invalidInput([`${field}: ${NAME_RULE}`]);
}

/** An AppError INVALID_INPUT carrying every message (the transport lists them all). */
export function invalidInput(errors: readonly string[]): AppError {
  return new AppError('INVALID_INPUT', errors.join('; '), { details: { errors: [...errors] } });
}

/** Turn zod issues into "<field>: <rule>" messages; unknown fields are named one by one. */
export function formatIssues(error: z.ZodError): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push(`${where ? `${where}.` : ''}${k}: unknown field`);
    } else {
      out.push(`${where || '(body)'}: ${issue.message}`);
    }
  }
  return out;
}

/** Parse `data` with `schema`, or throw one INVALID_INPUT listing all problems. */
export function parseFields<T>(schema: z.ZodType<T>, data: unknown): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  throw invalidInput(formatIssues(r.error));
}
