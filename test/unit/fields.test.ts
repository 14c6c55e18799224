import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseFields } from '../../src/config/field-errors.js';
import {
  boolField,
  commaListField,
  durationField,
  intField,
  nameField,
  objectField,
  parseDurationSeconds,
} from '../../src/config/fields.js';
import { isAppError } from '../../src/errors.js';

describe('durations: integer seconds or Go duration strings, returned as integer seconds', () => {
  it.each([
    [0, 0],
    [90, 90],
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h30m', 5400],
    ['1h', 3600],
    ['1.5h', 5400],
    ['1500ms', 1],
    ['2m30s', 150],
    [' 60 ', 60],
  ] as const)('%j → %d', (input, secs) => {
    expect(parseDurationSeconds(input)).toBe(secs);
  });

  it.each([['-5'], [-5], [1.5], ['5x'], [''], ['m'], ['1h-2m'], [true], [null], [{}], ['1e3']])(
    '%j is not a duration',
    (input) => {
      expect(parseDurationSeconds(input)).toBeUndefined();
    },
  );
});

describe('field builders report the field and the rule', () => {
  const Thing = z.strictObject({
    ttl: durationField({ default: 60, min: 60, max: 3600 }),
    count: intField({ default: 0, min: 0 }),
    list: commaListField({ default: [] }),
    opts: objectField({ default: {} }),
    name: nameField(),
  });

  it('applies defaults and normalises the CLI string forms', () => {
    expect(parseFields(Thing, { name: 'a.b-c_d' })).toEqual({
      ttl: 60,
      count: 0,
      list: [],
      opts: {},
      name: 'a.b-c_d',
    });
    expect(
      parseFields(Thing, { name: 'x', ttl: '1h', count: '3', list: ' a , b ,c', opts: '{"k": 1}' }),
    ).toEqual({ ttl: 3600, count: 3, list: ['a', 'b', 'c'], opts: { k: 1 }, name: 'x' });
    expect(parseFields(Thing, { name: 'x', list: '["echo a, b", " c "]' }).list).toEqual([
      'echo a, b',
      'c',
    ]);
    expect(parseFields(Thing, { name: 'x', list: '[not json, b' }).list).toEqual([
      '[not json',
      'b',
    ]);
    expect(
      parseFields(Thing, { name: 'x', list: [' a', 'b '], opts: { k: [1] }, count: 7 }),
    ).toMatchObject({
      list: ['a', 'b'],
      opts: { k: [1] },
      count: 7,
    });
  });

  it('reports every problem at once, each naming the field and the rule', () => {
    let errors: unknown;
    try {
      parseFields(Thing, {
        ttl: '30s',
        count: '-1',
        list: 5,
        opts: '[1]',
        name: '.bad',
        extra: 1,
        more: 2,
      });
    } catch (e) {
      expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
      errors = (e as { details: { errors: string[] } }).details.errors;
    }
    expect(errors).toEqual(
      expect.arrayContaining([
        'ttl: must be at least 60s',
        'count: must be at least 0',
        'list: must be a list of strings or a comma-separated string',
        'opts: must be a JSON object',
        expect.stringMatching(/^name: must match/),
        'extra: unknown field',
        'more: unknown field',
      ]),
    );
    expect(errors).toHaveLength(7);
  });

  it.each([
    ['count', '1.5', 'count: must be an integer'],
    ['count', 'abc', 'count: must be an integer'],
    ['ttl', 'soon', 'ttl: must be a duration'],
    ['opts', '{bad json', 'opts: must be a JSON object'],
    ['name', 'a/b', 'name: must match'],
    ['name', 7, 'name: must be a string'],
  ])('%s=%j is refused with "%s…"', (field, value, message) => {
    const r = Thing.safeParse({ name: 'ok', [field]: value });
    expect(r.success).toBe(false);
    expect(() => parseFields(Thing, { name: 'ok', [field]: value })).toThrow(message);
  });

  it('a missing required field says it is required', () => {
    expect(() => parseFields(Thing, {})).toThrow('name: is required');
  });
});

describe('booleans: JSON true/false or the words Go accepts, as the CLI sends them', () => {
  const Flags = z.strictObject({ on: boolField({ default: false }) });
  it.each([
    [true, true],
    [false, false],
    ['true', true],
    ['TRUE', true],
    ['t', true],
    ['1', true],
    ['false', false],
    ['f', false],
    ['0', false],
  ] as const)('%j → %s', (input, value) => {
    expect(parseFields(Flags, { on: input }).on).toBe(value);
  });

  it('absent takes the default; anything else names the field and the rule', () => {
    expect(parseFields(Flags, {}).on).toBe(false);
    const e = (() => {
      try {
        parseFields(Flags, { on: 'yes' });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(isAppError(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toBe('on: must be a boolean (true or false)');
  });
});
