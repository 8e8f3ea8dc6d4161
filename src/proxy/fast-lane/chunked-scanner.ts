import { CR, HTAB, LF, SP, isValueByte } from './http-bytes.js';

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

/** Chunk sizes up to this many hex digits (2^60 bytes: far more than any real body). */
const MAX_SIZE_DIGITS = 15;

/**
 * Follows a chunked body as it passes through unchanged, to find where it ends (the last
 * chunk and the trailer section). Strict: a bad size, a missing CRLF or a control byte in an
 * extension or trailer makes `scan` return MALFORMED_CHUNKED, and the response is cut.
 *
 * @example
 * const scanner = new ChunkedScanner();
 * scanner.scan(Buffer.from('3\r\nabc\r\n0\r\n\r\nextra'), 0); // 15: the body ends before "extra"
 */
export class ChunkedScanner {
  private state = State.Size;
  private remaining = 0;
  private digits = 0;

  /**
   * Scans `buf` from `start`. Returns the offset just past the body's end when it ends in
   * `buf`, NEEDS_MORE when every byte belonged to the body, or MALFORMED_CHUNKED. With
   * `stopAtChunkEnd`, also returns the offset just past the end of a data chunk (`isDone`
   * tells the two apart), where a last chunk may be written to end the body early. With
   * `onData`, each run of data bytes is handed to it (a view into `buf`): the body without its
   * chunked framing, as an HTTP/2 client gets it (HTTP/2 frames the data itself; trailers are
   * dropped, as the strict lane drops them).
   */
  scan(buf: Buffer, start: number, stopAtChunkEnd = false, onData?: (data: Buffer) => void): number {
    let i = start;
    const end = buf.length;
    while (i < end) {
      const code = buf[i]!;
      switch (this.state) {
        case State.Size: {
          const digit = hexValue(code);
          if (digit !== -1) {
            if (++this.digits > MAX_SIZE_DIGITS) return MALFORMED_CHUNKED;
            this.remaining = this.remaining * 16 + digit;
          } else if (this.digits === 0) {
            return MALFORMED_CHUNKED;
          } else if (code === CR) {
            this.state = State.SizeLf;
          } else if (code === 59 /* ; */ || code === SP || code === HTAB) {
            this.state = State.Extension;
          } else {
            return MALFORMED_CHUNKED;
          }
          i++;
          break;
        }
        case State.Extension:
          if (code === CR) this.state = State.SizeLf;
          else if (!isValueByte(code)) return MALFORMED_CHUNKED;
          i++;
          break;
        case State.SizeLf:
          if (code !== LF) return MALFORMED_CHUNKED;
          this.digits = 0;
          this.state = this.remaining === 0 ? State.TrailerLineStart : State.Data;
          i++;
          break;
        case State.Data: {
          const take = Math.min(this.remaining, end - i);
          onData?.(i === 0 && take === end ? buf : buf.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (code !== CR) return MALFORMED_CHUNKED;
          this.state = State.DataLf;
          i++;
          break;
        case State.DataLf:
          if (code !== LF) return MALFORMED_CHUNKED;
          this.state = State.Size;
          i++;
          if (stopAtChunkEnd) return i;
          break;
        case State.TrailerLineStart:
          this.state = code === CR ? State.FinalLf : State.Trailer;
          if (code !== CR && !isValueByte(code)) return MALFORMED_CHUNKED;
          i++;
          break;
        case State.Trailer:
          if (code === CR) this.state = State.TrailerLf;
          else if (!isValueByte(code)) return MALFORMED_CHUNKED;
          i++;
          break;
        case State.TrailerLf:
          if (code !== LF) return MALFORMED_CHUNKED;
          this.state = State.TrailerLineStart;
          i++;
          break;
        case State.FinalLf:
          if (code !== LF) return MALFORMED_CHUNKED;
          this.state = State.Done;
          return i + 1;
        case State.Done:
          return i;
      }
    }
    return NEEDS_MORE;
  }

  get isDone(): boolean {
    return this.state === State.Done;
  }

  /** Between two chunks: a last chunk written now ends the body cleanly. */
  get isBetweenChunks(): boolean {
    return this.state === State.Size && this.digits === 0;
  }
}

export const NEEDS_MORE = -1;
export const MALFORMED_CHUNKED = -2;

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}
