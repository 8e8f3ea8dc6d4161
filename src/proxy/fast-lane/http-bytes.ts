/** Byte classes of HTTP/1.1 (RFC 9110 §5.6.2, §5.5), shared by the fast lane's parsers. */

export const CR = 13;
export const LF = 10;
export const SP = 32;
export const HTAB = 9;
export const COLON = 58;

/** `tchar`: the bytes a header name (a token) may hold. */
const TOKEN_BYTES = new Uint8Array(256);
for (const char of "!#$%&'*+-.^_`|~") TOKEN_BYTES[char.charCodeAt(0)] = 1;
for (let code = 48; code <= 57; code++) TOKEN_BYTES[code] = 1;
for (let code = 65; code <= 90; code++) TOKEN_BYTES[code] = 1;
for (let code = 97; code <= 122; code++) TOKEN_BYTES[code] = 1;

export function isTokenByte(code: number): boolean {
  return TOKEN_BYTES[code] === 1;
}

/** Visible ASCII, space and tab: what a header value may hold (obs-text is left to the strict parser). */
export function isAsciiValueByte(code: number): boolean {
  return (code >= SP && code < 127) || code === HTAB;
}

/** Also obs-text (0x80–0xFF), which upstream responses do send and which passes through unchanged. */
export function isValueByte(code: number): boolean {
  return (code >= SP && code !== 127) || code === HTAB;
}

/**
 * The bytes a header value may hold, as a table `readHeaderLine` indexes (a table, not a
 * predicate: the two parsers would make a predicate call site polymorphic, and not inlined).
 */
export type ValueBytes = Uint8Array;

function valueBytesOf(isValue: (code: number) => boolean): ValueBytes {
  const table = new Uint8Array(256);
  for (let code = 0; code < 256; code++) table[code] = isValue(code) ? 1 : 0;
  return table;
}

/** `isAsciiValueByte` as a table. */
export const ASCII_VALUE_BYTES: ValueBytes = valueBytesOf(isAsciiValueByte);
/** `isValueByte` as a table. */
export const VALUE_BYTES: ValueBytes = valueBytesOf(isValueByte);

/** ASCII lower case of each byte (other bytes unchanged). */
const LOWER = new Uint8Array(256);
for (let code = 0; code < 256; code++) LOWER[code] = code >= 65 && code <= 90 ? code + 32 : code;

/** True when `[start, end)` of `buf` is `lower` (lower-case ASCII) in any case. */
export function equalsIgnoringCase(buf: Buffer, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  return startsWithIgnoringCase(buf, start, end, lower);
}

/** True when `[start, end)` of `buf` starts with `lower` (lower-case ASCII) in any case. */
export function startsWithIgnoringCase(buf: Buffer, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]!] !== lower[i]) return false;
  }
  return true;
}

/** True when `buf` holds exactly `expected` at `start` (a loop: a native `compare` call costs more for a few bytes). */
export function hasBytesAt(buf: Buffer, start: number, expected: Uint8Array): boolean {
  if (buf.length - start < expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (buf[start + i] !== expected[i]) return false;
  }
  return true;
}

/** The bytes of a lower-case ASCII string, for the comparisons above. */
export function lowerBytes(text: string): Uint8Array {
  return Buffer.from(text.toLowerCase(), 'latin1');
}

/**
 * Header names mapped to what the parser does with them, looked up in the bytes themselves:
 * no string per header line, no lower-casing (by length first, then byte by byte).
 *
 * @example
 * const roles = new HeaderNames([['host', 1]]);
 * roles.lookup(Buffer.from('HOST'), 0, 4); // 1
 */
export class HeaderNames<T> {
  private readonly byLength: (readonly [Uint8Array, T])[][] = [];

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [name, value] of entries) (this.byLength[name.length] ??= []).push([lowerBytes(name), value]);
  }

  /** What `[start, end)` of `buf` (a token) maps to; undefined for names not listed. */
  lookup(buf: Buffer, start: number, end: number): T | undefined {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return undefined;
    for (const [name, value] of candidates) {
      if (startsWithIgnoringCase(buf, start, end, name)) return value;
    }
    return undefined;
  }
}

/** Offset of the last byte of `[start, end)` that is not optional whitespace, plus one. */
export function trimEnd(buf: Buffer, start: number, end: number): number {
  while (end > start && (buf[end - 1] === SP || buf[end - 1] === HTAB)) end--;
  return end;
}

/**
 * The decimal value of `[start, end)` when it is 1 to 15 digits and nothing else, else -1.
 * Fifteen digits stay exact in a double and are far beyond any body the proxy accepts.
 */
export function parseDigits(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const code = buf[i]!;
    if (code < 48 || code > 57) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}

/** The parts of one header line, as offsets into the buffer; filled in by `readHeaderLine`. */
export interface HeaderLine {
  nameEnd: number;
  valueStart: number;
  /** After the value, trailing whitespace left out. */
  valueEnd: number;
  /** Where the next line starts. */
  next: number;
}

/** `readHeaderLine` found the empty line that ends the head (`line.next` is past it). */
export const HEAD_ENDED = 0;
/** `readHeaderLine` read a header line into `line`. */
export const LINE_READ = 1;
export const LINE_INCOMPLETE = 2;
export const LINE_MALFORMED = 3;

/**
 * Reads the header line (strictly `token ":" OWS value CRLF`, value bytes as `valueBytes`
 * allows: no obs-fold, no bare CR or LF) or the empty line at `start`, up to `end`.
 */
export function readHeaderLine(buf: Buffer, start: number, end: number, valueBytes: ValueBytes, line: HeaderLine): number {
  let i = start;
  if (i + 1 >= end) return LINE_INCOMPLETE;
  if (buf[i] === CR) {
    if (buf[i + 1] !== LF) return LINE_MALFORMED;
    line.next = i + 2;
    return HEAD_ENDED;
  }
  while (i < end && TOKEN_BYTES[buf[i]!] === 1) i++;
  line.nameEnd = i;
  if (i >= end) return LINE_INCOMPLETE;
  if (i === start || buf[i] !== COLON) return LINE_MALFORMED;
  i++;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  line.valueStart = i;
  while (i < end && valueBytes[buf[i]!] === 1) i++;
  if (i + 1 >= end) return LINE_INCOMPLETE;
  if (buf[i] !== CR || buf[i + 1] !== LF) return LINE_MALFORMED;
  line.valueEnd = trimEnd(buf, line.valueStart, i);
  line.next = i + 2;
  return LINE_READ;
}
