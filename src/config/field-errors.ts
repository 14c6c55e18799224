/**
 * Turning broken field rules into the one error every transport reports: INVALID_INPUT with one
 * "<field>: <rule>" message per problem, all of them at once, and nothing stored.
 */
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { nameRule } from './rules/names.js';

/** Throw INVALID_INPUT naming the field when a path capture is not a valid name. */
export function assertName(field: string, value: string): void {
  const rule = nameRule(value);
  if (rule !== undefined) throw invalidInput([`${field}: ${rule}`]);
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
