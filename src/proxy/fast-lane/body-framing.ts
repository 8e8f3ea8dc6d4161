import { ChunkedScanner, MALFORMED_CHUNKED, NEEDS_MORE } from './chunked-scanner.js';
import { Framing, type UpstreamResponseHead } from './upstream-response.js';

/**
 * Where an upstream response's body ends, across the reads it arrives in: after its
 * Content-Length, at its last chunk, or at the connection's end. The fast lane forwards the
 * bytes as they are; the HTTP/2 stream lane takes the data out of the chunked framing
 * (`onData`). One per exchange, reset for each response.
 */
export class BodyFraming {
  framing: Framing = Framing.None;
  /** The chunked body's scanner; undefined for any other framing. */
  chunked: ChunkedScanner | undefined = undefined;
  /** The last `end` found the end of the body (or, stopping at chunk ends, the end of a chunk). */
  isComplete = false;
  /** The upstream sent bytes beyond the response: its connection is out of step. */
  isOverrun = false;
  private bodyLeft = 0;

  /** Forgets the last response (a new try). */
  reset(): void {
    this.framing = Framing.None;
    this.chunked = undefined;
    this.isComplete = false;
    this.isOverrun = false;
  }

  /** The body of `head` follows. */
  begin(head: UpstreamResponseHead): void {
    this.framing = head.framing;
    if (head.framing === Framing.Length) this.bodyLeft = head.contentLength;
    else if (head.framing === Framing.Chunked) this.chunked = new ChunkedScanner();
  }

  /**
   * Where the body's bytes in `chunk` from `start` end: at the end of the body when it ends in
   * this chunk (`isComplete`), else at the end of the chunk; MALFORMED_CHUNKED for a broken
   * chunked body. `stopAtChunkEnd` and `onData` are the chunked scanner's (see `scan`).
   */
  end(chunk: Buffer, start: number, stopAtChunkEnd: boolean, onData?: (data: Buffer) => void): number {
    let end = chunk.length;
    let isComplete = false;
    switch (this.framing) {
      case Framing.None:
        isComplete = true;
        end = start;
        break;
      case Framing.Length:
        if (end - start >= this.bodyLeft) {
          end = start + this.bodyLeft;
          isComplete = true;
        }
        this.bodyLeft -= end - start;
        break;
      case Framing.Chunked: {
        const bodyEnd = this.chunked!.scan(chunk, start, stopAtChunkEnd, onData);
        if (bodyEnd === MALFORMED_CHUNKED) return MALFORMED_CHUNKED;
        if (bodyEnd !== NEEDS_MORE) {
          end = bodyEnd;
          isComplete = true;
        }
        break;
      }
      case Framing.UntilClose:
        break;
    }
    if (end < chunk.length) this.isOverrun = true;
    this.isComplete = isComplete;
    return end;
  }
}
