import { describe, expect, it } from 'vitest';
import { noteSignatureLines, splitSignedCommit } from '../../src/pipeline/signature-sources.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const HEAD =
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n' +
  'parent 1111111111111111111111111111111111111111\n' +
  'author A U Thor <a@example.test> 1700000000 +0000\n' +
  'committer C O Mitter <c@example.test> 1700000000 +0000\n';
const ARMOR =
  '-----BEGIN PGP SIGNATURE-----\n' +
  '\n' +
  'iHUEABYKAB0WIQQx\n' +
  'AAAA=\n' +
  '-----END PGP SIGNATURE-----\n';
/** The armor as git stores it in a header: first line after the key, the rest indented. */
const GPGSIG = 'gpgsig ' + ARMOR.replace(/\n(?!$)/g, '\n ');

describe('splitSignedCommit (gpgsig header, as git verify-commit splits it)', () => {
  it('takes the gpgsig header with its space-indented continuation lines as the signature', () => {
    const raw = enc(`${HEAD}${GPGSIG}\nthe message\n`);
    const parts = splitSignedCommit(raw);
    expect(parts.signature).toBe(ARMOR);
    expect(text(parts.payload)).toBe(`${HEAD}\nthe message\n`);
  });

  it('keeps a header that follows the signature in the payload', () => {
    const raw = enc(`${HEAD.slice(0, 46)}${GPGSIG}${HEAD.slice(46)}\nmsg\n`);
    const parts = splitSignedCommit(raw);
    expect(parts.signature).toBe(ARMOR);
    expect(text(parts.payload)).toBe(`${HEAD}\nmsg\n`);
  });

  it('returns the commit unchanged and no signature when there is no gpgsig', () => {
    const raw = enc(`${HEAD}\nunsigned\n`);
    const parts = splitSignedCommit(raw);
    expect(parts.signature).toBeUndefined();
    expect(parts.payload).toEqual(raw);
  });

  it('leaves a message that mentions gpgsig alone (only the header block is parsed)', () => {
    const message = 'gpgsig is not a header here\n gpgsig neither\n';
    const raw = enc(`${HEAD}\n${message}`);
    const parts = splitSignedCommit(raw);
    expect(parts.signature).toBeUndefined();
    expect(text(parts.payload)).toBe(`${HEAD}\n${message}`);
  });

  it('drops a gpgsig-sha256 header from the payload without using it as the signature', () => {
    const other =
      'gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n xyz\n -----END PGP SIGNATURE-----\n';
    const parts = splitSignedCommit(enc(`${HEAD}${other}${GPGSIG}\nm\n`));
    expect(parts.signature).toBe(ARMOR);
    expect(text(parts.payload)).toBe(`${HEAD}\nm\n`);
  });

  it('keeps continuation lines of other headers (mergetag) in the payload', () => {
    const mergetag =
      'mergetag object 2222222222222222222222222222222222222222\n type commit\n tag v1\n';
    const parts = splitSignedCommit(enc(`${HEAD}${mergetag}${GPGSIG}\nm\n`));
    expect(text(parts.payload)).toBe(`${HEAD}${mergetag}\nm\n`);
  });

  it('is byte-exact: CR, non-UTF-8 bytes and a missing final newline survive', () => {
    const message = Buffer.concat([
      Buffer.from('line\r\nbytes '),
      Buffer.from([0xff, 0xfe, 0x00]),
      Buffer.from('end'),
    ]);
    const raw = Buffer.concat([Buffer.from(`${HEAD}${GPGSIG}\n`), message]);
    const parts = splitSignedCommit(new Uint8Array(raw));
    expect(Buffer.from(parts.payload)).toEqual(Buffer.concat([Buffer.from(`${HEAD}\n`), message]));
  });

  it('handles a commit with an empty message and a view into a larger buffer', () => {
    const big = Buffer.from(`XXXX${HEAD}${GPGSIG}\nYYYY`);
    const view = new Uint8Array(big.buffer, big.byteOffset + 4, big.length - 8);
    const parts = splitSignedCommit(view);
    expect(parts.signature).toBe(ARMOR);
    expect(text(parts.payload)).toBe(`${HEAD}\n`);
  });
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('noteSignatureLines (werf git-signatures notes)', () => {
  it('reads one base64 signature per line, skipping blank lines and the trailing newline', () => {
    const note = `${b64('one')}\n\n${b64('two')}\n`;
    const { signatures, malformed } = noteSignatureLines([note]);
    expect(signatures.map((s) => Buffer.from(s.bytes).toString())).toEqual(['one', 'two']);
    expect(signatures.map((s) => s.index)).toEqual([1, 2]);
    expect(malformed).toEqual([]);
  });

  it('counts a line present in both the notes ref and the tag notes once', () => {
    const note = `${b64('one')}\n`;
    const { signatures } = noteSignatureLines([note, `${b64('two')}\n${b64('one')}\r\n`]);
    expect(signatures.map((s) => Buffer.from(s.bytes).toString())).toEqual(['one', 'two']);
  });

  it('skips absent notes', () => {
    expect(noteSignatureLines([undefined, undefined])).toEqual({ signatures: [], malformed: [] });
  });

  it.each([
    ['not base64 characters', 'this is !!! not base64'],
    ['a truncated base64 line', 'QUJDRA='],
    ['padding in the middle', 'QQ==QUJD'],
  ])('reports %s as malformed instead of throwing', (_what, line) => {
    const { signatures, malformed } = noteSignatureLines([`${b64('ok')}\n${line}\n`]);
    expect(signatures).toHaveLength(1);
    expect(malformed).toEqual([{ index: 2, detail: 'note line 2 is not base64' }]);
  });
});
