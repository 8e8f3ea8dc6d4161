const SPACE = 0x20;
const TAB = 0x09;
const DOUBLE_QUOTE = 0x22;

/**
 * The value of the first cookie called `name` in a request's Cookie header, or undefined.
 * Tolerates what real clients send: several Cookie headers (Node joins them with `; `; an
 * array is read in order too), spaces and tabs around names and values, a value in double
 * quotes (returned without them), pairs without `=` and empty pairs (skipped). The value is
 * returned as sent, without percent-decoding, so nothing here can throw. Linear in the header
 * length whatever it holds.
 *
 * @example
 * readCookie('theme=dark; cutover="a1b2"', 'cutover'); // 'a1b2'
 * readCookie('cutover', 'cutover'); // undefined
 */
export function readCookie(header: string | readonly string[] | undefined, name: string): string | undefined {
  if (header === undefined || name === '') return undefined;
  if (typeof header === 'string') return readCookieFrom(header, name);
  for (const line of header) {
    const value = readCookieFrom(line, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

function readCookieFrom(header: string, name: string): string | undefined {
  const length = header.length;
  let start = 0;
  // The next `=` at or after `start`; found once per pair at most, so the scan stays linear.
  let equals = -1;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    if (equals < start) {
      equals = header.indexOf('=', start);
      if (equals === -1) return undefined;
    }
    if (equals < end) {
      let nameStart = start;
      let nameEnd = equals;
      while (nameStart < nameEnd && isSpace(header.charCodeAt(nameStart))) nameStart++;
      while (nameEnd > nameStart && isSpace(header.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd - nameStart === name.length && header.startsWith(name, nameStart)) {
        let valueStart = equals + 1;
        let valueEnd = end;
        while (valueStart < valueEnd && isSpace(header.charCodeAt(valueStart))) valueStart++;
        while (valueEnd > valueStart && isSpace(header.charCodeAt(valueEnd - 1))) valueEnd--;
        if (valueEnd - valueStart >= 2 && header.charCodeAt(valueStart) === DOUBLE_QUOTE && header.charCodeAt(valueEnd - 1) === DOUBLE_QUOTE) {
          valueStart++;
          valueEnd--;
        }
        return header.slice(valueStart, valueEnd);
      }
    }
    start = end + 1;
  }
  return undefined;
}

function isSpace(code: number): boolean {
  return code === SPACE || code === TAB;
}
