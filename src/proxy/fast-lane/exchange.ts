import type { UpstreamTarget } from '../upstream-target.js';
import { MALFORMED_CHUNKED, NEEDS_MORE, type ChunkedScanner } from './chunked-scanner.js';
import type { UpstreamConnection } from './raw-upstream-pool.js';
import type { SimpleRequest } from './simple-request.js';
import { Framing } from './upstream-response.js';
import type { UpstreamResponseHead } from './upstream-response.js';

/**
 * The current exchange of a fast-lane connection: one request, its tries and its response.
 * A connection keeps one and reuses it, so nothing is allocated per request: `begin` resets what
 * a request starts with, `beginTry` what a try starts with, `clear` ends the exchange.
 */
export class Exchange {
  /** The request; undefined between exchanges. */
  request: SimpleRequest | undefined = undefined;
  target: UpstreamTarget | undefined = undefined;
  upstream: UpstreamConnection | undefined = undefined;
  tried: UpstreamTarget[] | undefined = undefined;
  tries = 0;
  pinnedRevision: number | undefined = undefined;
  startedAt = 0;
  response: UpstreamResponseHead | undefined = undefined;
  /** Response bytes of the upstream not yet forming a whole head. */
  headBytes: Buffer | undefined = undefined;
  bodyLeft = 0;
  chunked: ChunkedScanner | undefined = undefined;
  /** The last `bodyEnd` found the end of the body. */
  isBodyComplete = false;
  /** The upstream sent bytes beyond the response: its connection is out of step. */
  isOverrun = false;
  closesAfterResponse = false;
  /** The response is an event stream of unknown length: long-lived, ended cleanly when its endpoint leaves. */
  isEventStream = false;
  /** The endpoint is leaving: end the event stream at the next chunk boundary. */
  isGoingAway = false;

  begin(request: SimpleRequest, pinnedRevision: number | undefined): void {
    this.request = request;
    this.startedAt = performance.now();
    this.tries = 0;
    this.tried = undefined;
    this.closesAfterResponse = request.wantsClose;
    this.pinnedRevision = pinnedRevision;
  }

  beginTry(target: UpstreamTarget): void {
    this.target = target;
    this.tries++;
    this.response = undefined;
    this.headBytes = undefined;
    this.chunked = undefined;
    this.isOverrun = false;
  }

  /**
   * Where the response body's bytes in `chunk` from `start` end: at the end of the body when it
   * ends in this chunk (`isBodyComplete`), else at the end of the chunk; MALFORMED_CHUNKED for a
   * broken chunked body. Bytes after the body mark the upstream connection out of step.
   */
  bodyEnd(chunk: Buffer, start: number): number {
    let end = chunk.length;
    let isComplete = false;
    switch (this.response!.framing) {
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
        const bodyEnd = this.chunked!.scan(chunk, start, this.isGoingAway);
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
    this.isBodyComplete = isComplete;
    return end;
  }

  elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Forgets the exchange, once the caller ended its event stream and the in-flight count of its try. */
  clear(): void {
    this.target = undefined;
    this.request = undefined;
    this.response = undefined;
    this.chunked = undefined;
  }
}
