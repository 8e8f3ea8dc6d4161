import { CR, HTAB, LF, SP, isValueByte } from '../fast-lane/http-bytes.js';

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  Trailer,
  TrailerLf,
  FinalLf,
  Done,
}

/** Chunk sizes up to this many hex digits, as the fast lane's scanner allows. */
const MAX_SIZE_DIGITS = 15;

/** The body ended before the end of the buffer, or is not complete in it yet (see `decode`). */
export const CHUNKED_NEEDS_MORE = -1;
/** The chunked body breaks the framing rules: the response is cut. */
export const CHUNKED_MALFORMED = -2;

/**
 * Takes the chunked framing off an HTTP/1.1 response body for an HTTP/2 client, which gets the
 * data alone (HTTP/2 frames it itself). The same strict rules as the fast lane's
 * `ChunkedScanner`: a bad size, a missing CRLF or a control byte in an extension or trailer
 * makes the body MALFORMED. Trailers are read and dropped, as the strict lane drops them.
 *
 * @example
 * const decoder = new ChunkedDecoder();
 * const parts: Buffer[] = [];
 * decoder.decode(Buffer.from('3\r\nabc\r\n0\r\n\r\nextra'), 0, (data) => parts.push(data)); // 15; parts: ['abc']
 */
export class ChunkedDecoder {
  private state = State.Size;
  private remaining = 0;
  private digits = 0;

  /**
   * Decodes `buf` from `start`, handing each run of data bytes to `onData` (a view into `buf`).
   * Returns the offset just past the body's end when it ends in `buf`, CHUNKED_NEEDS_MORE when
   * every byte belonged to the body, or CHUNKED_MALFORMED.
   */
  decode(buf: Buffer, start: number, onData: (data: Buffer) => void): number {
    let i = start;
    const end = buf.length;
    while (i < end) {
      const code = buf[i]!;
      switch (this.state) {
        case State.Size: {
          const digit = hexValue(code);
          if (digit !== -1) {
            if (++this.digits > MAX_SIZE_DIGITS) return CHUNKED_MALFORMED;
            this.remaining = this.remaining * 16 + digit;
          } else if (this.digits === 0) {
            return CHUNKED_MALFORMED;
          } else if (code === CR) {
            this.state = State.SizeLf;
          } else if (code === 59 /* ; */ || code === SP || code === HTAB) {
            this.state = State.Extension;
          } else {
            return CHUNKED_MALFORMED;
          }
          i++;
          break;
        }
        case State.Extension:
          if (code === CR) this.state = State.SizeLf;
          else if (!isValueByte(code)) return CHUNKED_MALFORMED;
          i++;
          break;
        case State.SizeLf:
          if (code !== LF) return CHUNKED_MALFORMED;
          this.digits = 0;
          this.state = this.remaining === 0 ? State.TrailerLineStart : State.Data;
          i++;
          break;
        case State.Data: {
          const take = Math.min(this.remaining, end - i);
          onData(i === 0 && take === end ? buf : buf.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (code !== CR) return CHUNKED_MALFORMED;
          this.state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (code !== LF) return CHUNKED_MALFORMED;
          this.state = State.Size;
          i++;
          break;
        case State.TrailerLineStart:
          this.state = code === CR ? State.FinalLf : State.Trailer;
          if (code !== CR && !isValueByte(code)) return CHUNKED_MALFORMED;
          i++;
          break;
        case State.Trailer:
          if (code === CR) this.state = State.TrailerLf;
          else if (!isValueByte(code)) return CHUNKED_MALFORMED;
          i++;
          break;
        case State.TrailerLf:
          if (code !== LF) return CHUNKED_MALFORMED;
          this.state = State.TrailerLineStart;
          i++;
          break;
        case State.FinalLf:
          if (code !== LF) return CHUNKED_MALFORMED;
          this.state = State.Done;
          return i + 1;
        case State.Done:
          return i;
      }
    }
    return CHUNKED_NEEDS_MORE;
  }

  get isDone(): boolean {
    return this.state === State.Done;
  }
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}
