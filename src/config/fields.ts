/**
 * Fields of a mount's settings: how a value given on any transport becomes the stored value, and
 * what the help says about it. The `vault`/`bao` CLI sends `key=value` pairs as JSON strings, while
 * a JSON body (or an OpenBao plugin request) may carry real numbers, lists and objects; these zod
 * builders accept both forms and normalise them (durations → integer seconds, comma strings →
 * lists, "true" → true, …), so every transport gets the same coercion from the schema itself.
 *
 * Each builder also records the field's help (type, default as the operator writes it,
 * required, write-only, description) in `FIELD_HELP`, so that path help and the README reference
 * are derived from the very schema that parses the value (`fieldSpecs`). Every rule failure
 * becomes one message "<field>: <rule>", and a write reports all of them at once.
 */
import { z } from 'zod';
import { BODY_MAX_DEPTH, nestingDepth } from './limits.js';
import { parseDurationSeconds } from './rules/duration.js';
import { nameRule } from './rules/names.js';

export { parseDurationSeconds } from './rules/duration.js';
/** How a field is typed when the CLI sends it (key=value pairs arrive as strings). */
export type FieldType =
  'string' | 'int' | 'bool' | 'duration' | 'comma-list' | 'object' | 'name' | 'size';

/** One field's help: what path help and the README reference show. */
export interface FieldSpec {
  readonly type: FieldType;
  readonly description: string;
  /** The default as an operator would write it (`5m`, not 300). */
  readonly default?: unknown;
  readonly required?: boolean;
  /** Write-only: never returned by a read, never logged. */
  readonly sensitive?: boolean;
}

/**
 * The help of every field schema the builders made, keyed by the schema instance (a zod registry:
 * written once, when a settings schema module is loaded, and only read afterwards).
 */
export const FIELD_HELP = z.registry<FieldSpec>();

/** The help of each field of an object schema, in declaration order (fields without help are left out). */
export function fieldSpecs(schema: z.ZodObject): Readonly<Record<string, FieldSpec>> {
  const out: Record<string, FieldSpec> = {};
  for (const [name, field] of Object.entries(schema.shape)) {
    const spec = FIELD_HELP.get(field as z.ZodType);
    if (spec) out[name] = spec;
  }
  return out;
}

/** The outcome of one field parser: a value or the rule it broke. */
type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly rules: readonly string[] };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (...rules: string[]): Parsed<never> => ({ ok: false, rules });

/** Options shared by the field builders. */
export interface FieldOptions<T> {
  /** Value when the field is absent (or null); without it the field is required. */
  readonly default?: T;
  /** Help text (path help, README reference). */
  readonly description?: string;
  /** Write-only: never returned by a read, never logged. */
  readonly sensitive?: boolean;
}

/**
 * Build a zod schema from a parser: absent/null → default or "is required"; otherwise the
 * parser decides, and a failure is reported with the rule as the message. The field's help is
 * registered on the returned schema.
 */
function field<T>(
  type: FieldType,
  parse: (v: unknown) => Parsed<T>,
  opts: FieldOptions<T> & { readonly shownDefault?: unknown },
): z.ZodType<T> {
  const schema = z
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
      for (const message of r.rules) ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }) as unknown as z.ZodType<T>;
  const shown = opts.shownDefault ?? opts.default;
  schema.register(FIELD_HELP, {
    type,
    description: opts.description ?? '',
    ...(shown === undefined ? { required: true } : { default: shown }),
    ...(opts.sensitive ? { sensitive: true } : {}),
  });
  return schema;
}

/** A string; `check` returns the broken rule or undefined; `normalise` shapes the stored value. */
export function stringField(
  opts: FieldOptions<string> & {
    readonly check?: (s: string) => string | undefined;
    readonly nonEmpty?: boolean;
    readonly normalise?: (s: string) => string;
  } = {},
): z.ZodType<string> {
  return field(
    'string',
    (v) => {
      if (typeof v !== 'string') return bad('must be a string');
      if (opts.nonEmpty && v.trim() === '') return bad('must not be empty');
      const rule = opts.check?.(v);
      if (rule !== undefined) return bad(rule);
      return ok(opts.normalise ? opts.normalise(v) : v);
    },
    opts,
  );
}

/** One of a fixed list of words, matched without regard to case and stored as listed. */
export function oneOfField<const W extends string>(
  words: readonly W[],
  opts: FieldOptions<W> = {},
): z.ZodType<W> {
  return field(
    'string',
    (v) => {
      const word =
        typeof v === 'string' ? words.find((w) => w.toLowerCase() === v.toLowerCase()) : undefined;
      return word === undefined ? bad(`must be one of ${words.join(' ')}`) : ok(word);
    },
    opts,
  );
}

/** An integer from a JSON number or a string of digits, within bounds. */
export function intField(
  opts: FieldOptions<number> & { readonly min?: number; readonly max?: number } = {},
): z.ZodType<number> {
  return field(
    'int',
    (v) => {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) n = Number(v.trim());
      else return bad('must be an integer');
      if (!Number.isSafeInteger(n)) return bad('must be an integer');
      if (opts.min !== undefined && n < opts.min) return bad(`must be at least ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) return bad(`must be at most ${opts.max}`);
      return ok(n);
    },
    opts,
  );
}

const TRUE_WORDS = ['1', 't', 'true'];
const FALSE_WORDS = ['0', 'f', 'false'];

/** A boolean from JSON true/false or the words Go's strconv.ParseBool takes (1, t, true, …). */
export function boolField(opts: FieldOptions<boolean> = {}): z.ZodType<boolean> {
  return field(
    'bool',
    (v) => {
      if (typeof v === 'boolean') return ok(v);
      const word = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
      if (word !== undefined && TRUE_WORDS.includes(word)) return ok(true);
      if (word !== undefined && FALSE_WORDS.includes(word)) return ok(false);
      return bad('must be a boolean (true or false)');
    },
    opts,
  );
}

/**
 * A duration (integer seconds or Go duration string) → integer seconds, at least `min`. The
 * default may be written as the operator would (`'5m'`): help shows that, the value is 300.
 */
export function durationField(
  opts: Omit<FieldOptions<number>, 'default'> & {
    readonly default?: number | string;
    readonly min?: number;
    /** Every duration has a documented maximum (src/config/limits.ts). */
    readonly max: number;
  },
): z.ZodType<number> {
  const seconds = opts.default === undefined ? undefined : parseDurationSeconds(opts.default);
  if (opts.default !== undefined && seconds === undefined) {
    throw new Error(`invalid default duration ${String(opts.default)}`);
  }
  const { default: shownDefault, ...rest } = opts;
  return field<number>(
    'duration',
    (v) => {
      const n = parseDurationSeconds(v);
      if (n === undefined) {
        return bad('must be a duration: integer seconds or a Go duration like 90s, 5m, 1h30m');
      }
      if (opts.min !== undefined && n < opts.min) return bad(`must be at least ${opts.min}s`);
      if (n > opts.max) return bad(`must be at most ${humanSeconds(opts.max)} (${opts.max}s)`);
      return ok(n);
    },
    seconds === undefined ? rest : { ...rest, default: seconds, shownDefault },
  );
}

/** `8760h`, `90m`, `45s`: a bound as an operator would write it. */
export function humanSeconds(n: number): string {
  if (n % 3600 === 0) return `${n / 3600}h`;
  if (n % 60 === 0) return `${n / 60}m`;
  return `${n}s`;
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
 * is read as that list, so an item can contain a comma. `check` returns the rules the list breaks.
 */
export function commaListField(
  opts: FieldOptions<readonly string[]> & {
    readonly check?: (list: readonly string[]) => readonly string[];
    /** Shapes the stored list once `check` passed (e.g. canonical spelling of each item). */
    readonly normalise?: (list: readonly string[]) => string[];
  } = {},
): z.ZodType<string[]> {
  const { default: dflt, check, normalise, ...rest } = opts;
  return field<string[]>(
    'comma-list',
    (v) => {
      let list: string[];
      const fromJson = typeof v === 'string' ? jsonStringList(v) : undefined;
      if (fromJson) list = fromJson.map((s) => s.trim());
      else if (typeof v === 'string')
        list = v.trim() === '' ? [] : v.split(',').map((s) => s.trim());
      else if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) {
        list = v.map((s) => s.trim());
      } else return bad('must be a list of strings or a comma-separated string');
      const rules = check?.(list) ?? [];
      if (rules.length > 0) return bad(...rules);
      return ok(normalise ? normalise(list) : list);
    },
    dflt === undefined ? rest : { ...rest, default: [...dflt] },
  );
}

/** A JSON object, given as an object or as a string holding JSON. */
export function objectField(
  opts: FieldOptions<Record<string, unknown>> = {},
): z.ZodType<Record<string, unknown>> {
  return field(
    'object',
    (v) => {
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
      if (nestingDepth(o, BODY_MAX_DEPTH) > BODY_MAX_DEPTH) {
        return bad(`must not be nested more than ${BODY_MAX_DEPTH} levels deep`);
      }
      return ok(o as Record<string, unknown>);
    },
    opts,
  );
}

/** A name as used in paths: Vault's `^\w(([\w.-]+)?\w)?$`. */
export function nameField(opts: FieldOptions<string> = {}): z.ZodType<string> {
  return field(
    'name',
    (v) => {
      if (typeof v !== 'string') return bad('must be a string');
      const rule = nameRule(v);
      return rule === undefined ? ok(v) : bad(rule);
    },
    opts,
  );
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** Bytes from an integer or `<n>k`/`<n>m`/`<n>g` (binary units, an optional `i`/`b`), or undefined. */
export function parseByteSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(v);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A size in bytes: an integer or `512m`, `1g`, `64k` (binary units). The default may be written
 * as the operator would (`'512m'`): help shows that, the value is bytes. `0` passes when
 * `zeroMeans` says what it means (e.g. "no limit"); otherwise the size must be at least `min`.
 */
export function byteSizeField(
  opts: Omit<FieldOptions<number>, 'default'> & {
    readonly default: number | string;
    readonly min: number;
    readonly max?: number;
    readonly zeroAllowed?: boolean;
  },
): z.ZodType<number> {
  const bytes = parseByteSize(opts.default);
  if (bytes === undefined) throw new Error(`invalid default size ${String(opts.default)}`);
  const { default: shownDefault, ...rest } = opts;
  return field<number>(
    'size',
    (v) => {
      const n = parseByteSize(v);
      if (n === undefined) return bad('must be a size: integer bytes or like 64k, 512m, 2g');
      if (n === 0 && opts.zeroAllowed) return ok(0);
      if (n < opts.min)
        return bad(`must be at least ${opts.min} bytes${opts.zeroAllowed ? ' (or 0)' : ''}`);
      if (opts.max !== undefined && n > opts.max) return bad(`must be at most ${opts.max} bytes`);
      return ok(n);
    },
    { ...rest, default: bytes, shownDefault },
  );
}
