/** The status line and headers of one answer may take this many bytes (Node's own default limit). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Body bytes read past before the verdict is taken on the status alone and the connection dropped. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A chunk-size line (hex size and extensions) longer than this is not HTTP. */
const MAX_CHUNK_LINE_BYTES = 1024;

/** What the bytes read so far amount to. */
export type ReadStep =
  | { kind: 'more' }
  /** The answer is complete. `isReusable`: the connection may carry the next check. */
  | { kind: 'answered'; status: number; isReusable: boolean }
  | { kind: 'invalid'; reason: string };

type Phase = 'head' | 'body-length' | 'body-until-close' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'answered' | 'invalid';

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/;
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;[^\r\n]*)?$/;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Reads the answer to one health check from untrusted bytes, as they arrive: the status line and
 * headers (at most `MAX_HEAD_BYTES`, interim 1xx answers skipped), then the body, skipped by its
 * Content-Length, its chunks, or until the app closes the connection. Nothing of the body is
 * kept, and the work is bounded: past `MAX_BODY_BYTES` the verdict is taken on the status and the
 * connection is not reused. Anything that is not HTTP/1.x is `invalid`.
 *
 * @example
 * const reader = new HealthResponseReader();
 * reader.push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n')); // { kind: 'answered', status: 204, isReusable: true }
 */
export class HealthResponseReader {
  private phase: Phase = 'head';
  /** Bytes of a head, chunk-size line or trailer section not complete yet. */
  private pending: Buffer | undefined;
  /** Bytes left of the body (Content-Length) or of the current chunk. */
  private remaining = 0;
  private bodyBytes = 0;
  private trailerBytes = 0;
  private isKeepAlive = true;
  private bytesRead = 0;
  private invalidReason = '';
  /** The final answer's status, once its head is read (0 before). */
  status = 0;
  /** How long the app keeps an idle connection, by its `Keep-Alive: timeout=N` header (undefined: not said). */
  keepAliveTimeoutMs: number | undefined;

  /** Takes the next bytes read from the connection. */
  push(chunk: Buffer): ReadStep {
    this.bytesRead += chunk.length;
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    for (;;) {
      const consumed = this.step(data);
      if (this.phase === 'answered') {
        // Bytes after a whole answer, unasked: the connection cannot carry another check.
        return { kind: 'answered', status: this.status, isReusable: this.isKeepAlive && consumed === data.length };
      }
      if (this.phase === 'invalid') return { kind: 'invalid', reason: this.invalidReason };
      if (consumed < 0) return { kind: 'more' };
      data = data.subarray(consumed);
      if (data.length === 0) return { kind: 'more' };
    }
  }

  /**
   * The app closed the connection. Returns the answer when its body runs until the close, and
   * undefined when the answer was not complete (no answer, or a body cut off: see `status`).
   */
  closed(): ReadStep | undefined {
    if (this.phase !== 'body-until-close') return undefined;
    this.phase = 'answered';
    return { kind: 'answered', status: this.status, isReusable: false };
  }

  /** True once any byte of the answer was read (a reused connection that closed before that says nothing of the app). */
  get hasStarted(): boolean {
    return this.bytesRead > 0;
  }

  /** Reads one unit (head, line, or body bytes) from `data`: returns the bytes consumed, or -1 when more are needed (kept in `pending`). */
  private step(data: Buffer): number {
    switch (this.phase) {
      case 'head':
        return this.readHead(data);
      case 'body-length':
      case 'body-until-close':
      case 'chunk-data':
        return this.skipBody(data);
      case 'chunk-size':
        return this.readChunkSize(data);
      case 'chunk-data-end':
        return this.readChunkDataEnd(data);
      case 'trailers':
        return this.readTrailers(data);
      default:
        return data.length;
    }
  }

  private invalid(reason: string): number {
    this.phase = 'invalid';
    this.invalidReason = reason;
    return 0;
  }

  /** Waits for a whole line or section ending in `terminator` within `limit` bytes. */
  private upTo(data: Buffer, terminator: Buffer, limit: number, what: string): number | undefined {
    const end = data.indexOf(terminator);
    if (end >= 0 && end + terminator.length <= limit) return end;
    if (end >= 0 || data.length >= limit) {
      this.invalid(`${what} over ${limit} bytes`);
      return undefined;
    }
    // A copy: the caller may read the next bytes into the same buffer.
    this.pending = Buffer.from(data);
    return -1;
  }

  private readHead(data: Buffer): number {
    const end = this.upTo(data, HEAD_END, MAX_HEAD_BYTES, 'response head');
    if (end === undefined) return 0;
    if (end < 0) return -1;
    const lines = data.toString('latin1', 0, end).split('\r\n');
    const statusMatch = STATUS_LINE.exec(lines[0]!);
    if (!statusMatch) return this.invalid('malformed status line');
    const status = Number(statusMatch[2]);
    let contentLength: number | undefined;
    let isChunked = false;
    let hasTransferEncoding = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const header = headerOf(lines[i]!);
      if (!header) return this.invalid('malformed header line');
      const name = header.name.toLowerCase();
      const value = header.value;
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) return this.invalid('invalid Content-Length');
        contentLength = Number(value);
      } else if (name === 'transfer-encoding') {
        hasTransferEncoding = true;
        isChunked = /(?:^|,)[ \t]*chunked[ \t]*$/i.test(value);
      } else if (name === 'connection') {
        connection += `${value.toLowerCase()},`;
      } else if (name === 'keep-alive') {
        const timeout = /(?:^|[ ,])timeout=(\d{1,9})(?:$|[ ,])/i.exec(value);
        if (timeout) this.keepAliveTimeoutMs = Number(timeout[1]) * 1000;
      }
    }
    const consumed = end + HEAD_END.length;
    // Interim answers (100 Continue, 103 Early Hints) precede the real one; 101 switches protocols, which a check never asks.
    if (status < 200 && status !== 101) return consumed;
    if (hasTransferEncoding && contentLength !== undefined) return this.invalid('both Content-Length and Transfer-Encoding');
    this.status = status;
    this.isKeepAlive = statusMatch[1] === '1' && !/(?:^|[ ,])close[ ,]/.test(connection) && status !== 101;
    if (status === 204 || status === 304 || status === 101) {
      this.phase = 'answered';
    } else if (isChunked) {
      this.phase = 'chunk-size';
    } else if (hasTransferEncoding || contentLength === undefined) {
      this.phase = 'body-until-close';
      this.isKeepAlive = false;
    } else if (contentLength === 0) {
      this.phase = 'answered';
    } else {
      this.phase = 'body-length';
      this.remaining = contentLength;
    }
    return consumed;
  }

  /** Skips body bytes; past `MAX_BODY_BYTES` the answer counts as complete and the connection is dropped. */
  private skipBody(data: Buffer): number {
    const isUntilClose = this.phase === 'body-until-close';
    const taken = isUntilClose ? data.length : Math.min(this.remaining, data.length);
    this.bodyBytes += taken;
    this.remaining -= taken;
    if (this.bodyBytes > MAX_BODY_BYTES) {
      this.isKeepAlive = false;
      this.phase = 'answered';
      return data.length;
    }
    if (isUntilClose || this.remaining > 0) return taken;
    this.phase = this.phase === 'chunk-data' ? 'chunk-data-end' : 'answered';
    return taken;
  }

  private readChunkSize(data: Buffer): number {
    const end = this.upTo(data, CRLF, MAX_CHUNK_LINE_BYTES, 'chunk-size line');
    if (end === undefined) return 0;
    if (end < 0) return -1;
    const match = CHUNK_SIZE_LINE.exec(data.toString('latin1', 0, end));
    if (!match) return this.invalid('malformed chunk size');
    const size = parseInt(match[1]!, 16);
    if (size === 0) {
      this.phase = 'trailers';
    } else {
      this.phase = 'chunk-data';
      this.remaining = size;
    }
    return end + CRLF.length;
  }

  private readChunkDataEnd(data: Buffer): number {
    if (data.length < CRLF.length) {
      this.pending = Buffer.from(data);
      return -1;
    }
    if (data[0] !== 0x0d || data[1] !== 0x0a) return this.invalid('chunk not followed by CRLF');
    this.phase = 'chunk-size';
    return CRLF.length;
  }

  /** Trailer lines after the last chunk, up to an empty line; bounded like a head. */
  private readTrailers(data: Buffer): number {
    const end = this.upTo(data, CRLF, MAX_HEAD_BYTES - this.trailerBytes, 'trailer section');
    if (end === undefined) return 0;
    if (end < 0) return -1;
    this.trailerBytes += end + CRLF.length;
    if (end === 0) this.phase = 'answered';
    else if (!headerOf(data.toString('latin1', 0, end))) return this.invalid('malformed trailer line');
    return end + CRLF.length;
  }
}

/**
 * A header line's name and value (spaces and tabs around the value dropped), or undefined when it
 * is not one. No regular expression over the value: one that backtracks would let an app make each
 * check cost quadratic time in its header's length.
 */
function headerOf(line: string): { name: string; value: string } | undefined {
  const name = HEADER_NAME.exec(line);
  if (!name || hasControlCharacter(line)) return undefined;
  let start = name[0].length;
  let end = line.length;
  while (start < end && (line[start] === ' ' || line[start] === '\t')) start++;
  while (end > start && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return { name: name[0].slice(0, -1), value: line.slice(start, end) };
}

/** True when the line holds a control character other than a tab (a bare CR or LF among them). */
function hasControlCharacter(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}
