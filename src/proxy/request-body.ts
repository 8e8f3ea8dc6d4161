import type { IncomingMessage } from 'node:http';
import type { BodyRateGuard, BodyWatch } from './body-rate-guard.js';
import { isHttp2Request } from './front-door/h2-request.js';
import { LimitedBody } from './limited-body.js';

/** What a request body tells the request it belongs to. */
export interface BodyOwner {
  /** The whole body arrived (read first so that a retry can send it again). */
  onBodyBuffered(chunks: Buffer[]): void;
  /** The body arrives slower than the minimum rate: `refusedStatus` is 408 now. */
  onBodyTooSlow(): void;
}

/**
 * The body of a forwarded request (step 1 of `ForwardedRequest`), made only for a request that
 * has one: the body rate guard watches it while it arrives; it is read whole first (`buffer`)
 * or streamed (`streamed`), with the size cap when its length is not known in advance.
 */
export class RequestBody {
  /** Set when the proxy itself refuses the request mid-way (413, 408): the status to answer. */
  refusedStatus: number | undefined = undefined;
  private readonly watch: BodyWatch | undefined;
  private limited: LimitedBody | undefined = undefined;
  /** Body bytes read from an HTTP/2 stream (its connection's byte count is every stream's). */
  private streamBytes = 0;
  private readonly isHttp2: boolean;

  constructor(
    private readonly owner: BodyOwner,
    private readonly req: IncomingMessage,
    private readonly guard: BodyRateGuard,
  ) {
    this.isHttp2 = isHttp2Request(req);
    const bytesRead = this.isHttp2 ? () => this.streamBytes + (this.limited?.received ?? 0) + req.readableLength : () => req.socket.bytesRead;
    this.watch = guard.watch(bytesRead, () => this.onTooSlow());
    if (this.watch !== undefined) req.once('end', () => guard.unwatch(this.watch));
  }

  /**
   * Reads the whole body, then hands it to the owner, if it has the `Content-Length` it declared.
   * A body that ends short or long (an HTTP/2 stream reset mid-body, DATA that disagrees with
   * content-length) is never forwarded: HTTP/1.1's parser guarantees the length, HTTP/2's end
   * of stream does not.
   */
  buffer(expectedBytes: number): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    this.req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      this.streamBytes += chunk.length;
      chunks.push(chunk);
    });
    this.req.once('end', () => {
      if (bytes === expectedBytes) this.owner.onBodyBuffered(chunks);
      else this.req.destroy();
    });
  }

  /**
   * The body to stream upstream: the request itself, or with `maxBodyBytes` > 0 a copy cut at
   * that size (413). An HTTP/2 body always goes through the copy, which counts its bytes for
   * the rate guard.
   */
  streamed(maxBodyBytes: number): IncomingMessage | LimitedBody {
    if (maxBodyBytes <= 0 && !this.isHttp2) return this.req;
    return (this.limited = new LimitedBody(this.req, maxBodyBytes > 0 ? maxBodyBytes : Infinity, () => this.onTooLarge()));
  }

  /** True while none of a streamed body has been read for upstream: a try that failed may still send it elsewhere. */
  get isUnread(): boolean {
    if (this.limited !== undefined) return !this.limited.hasStarted && !this.req.destroyed;
    return !this.req.readableDidRead && !this.req.destroyed;
  }

  /** The response closed: the body no longer matters. */
  stopWatching(): void {
    if (this.watch !== undefined) this.guard.unwatch(this.watch);
  }

  private onTooSlow(): void {
    this.refusedStatus = 408;
    this.owner.onBodyTooSlow();
  }

  private onTooLarge(): void {
    this.refusedStatus = 413;
  }
}
