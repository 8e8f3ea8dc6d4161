import type { UpstreamTarget } from '../upstream-target.js';
import { BodyFraming } from './body-framing.js';
import type { UpstreamConnection } from './raw-upstream-pool.js';
import type { SimpleRequest } from './simple-request.js';
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
  /** Where the response's body ends. */
  readonly body = new BodyFraming();
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
    this.body.reset();
  }

  elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Forgets the exchange, once the caller ended its event stream and the in-flight count of its try. */
  clear(): void {
    this.target = undefined;
    this.request = undefined;
    this.response = undefined;
    this.body.reset();
  }
}
