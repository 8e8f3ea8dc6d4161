import { constants as http2constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';

/**
 * Guards of one HTTP/2 session of the front door's TLS listener, for what Node's `http2` leaves
 * open: a request timeout (Node's bounds only HTTP/1.1 requests) and rapid reset. Idle sessions
 * need none: Node's session timeout (`h2IdleTimeoutMs`) restarts on complete header blocks,
 * stream activity and our writes, not on PINGs or CONTINUATION frames, so a client that trickles
 * a header block or only pings is closed when it runs out.
 */

/** Streams a client may reset before their answer within one second before its session is ended. */
export const MAX_EARLY_RESETS_PER_SECOND = 200;

/** How long a session told to go away may keep its connection before it is cut. */
const GOAWAY_GRACE_MS = 1_000;

/** `requestTimeoutMs`: a stream whose request (its body) has not ended this long after its headers is reset; 0: no limit. */
export function guardH2Session(session: Http2Session, requestTimeoutMs: number): void {
  guardAgainstRapidReset(session);
  limitRequestTime(session, requestTimeoutMs);
}

/**
 * HTTP/2 rapid reset (CVE-2023-44487): a client opening streams and resetting them at once makes
 * the proxy start work it never finishes. A session whose client resets more than
 * MAX_EARLY_RESETS_PER_SECOND streams before their response in a second gets GOAWAY
 * (ENHANCE_YOUR_CALM) and is closed.
 */
function guardAgainstRapidReset(session: Http2Session): void {
  let windowStartMs = 0;
  let resets = 0;
  session.on('stream', (stream: ServerHttp2Stream) => {
    stream.once('close', () => {
      if (stream.headersSent || stream.rstCode === http2constants.NGHTTP2_NO_ERROR) return;
      const now = performance.now();
      if (now - windowStartMs > 1_000) {
        windowStartMs = now;
        resets = 0;
      }
      if (++resets > MAX_EARLY_RESETS_PER_SECOND && !session.closed) {
        // GOAWAY first, then a graceful close: nghttp2 refuses the streams the client opens after
        // it, and the session ends once the last one is gone. Destroying it at once would drop the
        // GOAWAY unsent; a client that holds on is cut after a grace.
        session.goaway(http2constants.NGHTTP2_ENHANCE_YOUR_CALM);
        session.close();
        setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
      }
    });
  });
}

/**
 * Node's request timeout bounds an HTTP/1.1 request until it has arrived whole; HTTP/2 streams
 * get the same bound here: a stream whose request (its body) has not ended `timeoutMs` after its
 * headers is reset (CANCEL), which ends its forwarding too. Streams whose request ended with
 * their headers (bodyless GETs) cost nothing.
 */
function limitRequestTime(session: Http2Session, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  session.on('stream', (stream: ServerHttp2Stream) => {
    if (stream.endAfterHeaders) return;
    const timer = setTimeout(() => {
      if (!stream.destroyed) stream.close(http2constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    stream.once('end', clear);
    stream.once('close', clear);
  });
}
