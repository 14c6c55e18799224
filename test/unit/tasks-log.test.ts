import { describe, expect, it } from 'vitest';
import { createBoundedText, omittedMarker, sliceLog } from '../../src/tasks/task-log.js';

describe('task log slicing (offset and limit in characters, as the original)', () => {
  const text = 'abcdefghij';
  it.each([
    { offset: 0, limit: 500, want: 'abcdefghij' },
    { offset: 0, limit: 3, want: 'abc' },
    { offset: 3, limit: 4, want: 'defg' },
    { offset: 8, limit: 0, want: 'ij' },
    { offset: 0, limit: 0, want: 'abcdefghij' },
    { offset: 20, limit: 5, want: '' },
  ])('offset $offset limit $limit → "$want"', ({ offset, limit, want }) => {
    expect(sliceLog(text, offset, limit)).toBe(want);
  });
});

describe('bounded log text', () => {
  it('keeps everything up to the bound', () => {
    const b = createBoundedText(10);
    b.append('12345');
    b.append('67890');
    expect(b.snapshot()).toEqual({ text: '1234567890', omitted: 0 });
  });

  it.each([
    { chunks: ['12345678901'], head: '12345', tail: '78901', omitted: 1 },
    { chunks: ['abc', 'defgh', 'ijklm', 'nopqr'], head: 'abcde', tail: 'nopqr', omitted: 8 },
    {
      chunks: Array.from({ length: 100 }, (_, i) => String(i % 10)),
      head: '01234',
      tail: '56789',
      omitted: 90,
    },
  ])(
    'keeps the first and last halves of the bound with a marker ($omitted omitted)',
    ({ chunks, head, tail, omitted }) => {
      const b = createBoundedText(10);
      for (const c of chunks) b.append(c);
      expect(b.snapshot()).toEqual({ text: head + omittedMarker(omitted) + tail, omitted });
    },
  );
});
