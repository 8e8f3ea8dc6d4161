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
