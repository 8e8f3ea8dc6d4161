import type { Pool } from 'undici';
import type { EndpointMeter } from './request-meter.js';

/**
 * One endpoint of one instance as the data plane sees it: where to send requests, the
 * keep-alive pool to send them through, and how many requests (and WebSocket tunnels) it is
 * serving right now. Shared by every routing table that names the endpoint, so in-flight
 * counts survive plan swaps.
 */
export class UpstreamTarget {
  /** Requests and tunnels assigned to this endpoint and not yet finished. */
  inflight = 0;
  /** Routing tables that include this endpoint. */
  refs = 0;
  /** Out of the pool for a while after failing too often in a row (see `outlier-ejection.ts`). */
  isEjected = false;
  /** Tries that failed in a row, for outlier ejection. */
  failuresInRow = 0;
  /** Brings an ejected endpoint back; cleared when the target is dropped. */
  ejectionTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly key: string,
    readonly id: string,
    readonly host: string,
    readonly port: number,
    /** The revision whose group this endpoint belongs to. */
    readonly revision: number,
    readonly pool: Pool,
    private readonly onUnused: (target: UpstreamTarget) => void,
    /** Where requests answered through this endpoint are counted. */
    readonly meter: EndpointMeter,
  ) {}

  /** Counts one request or tunnel assigned to this endpoint. Pair with exactly one `end()`. */
  begin(): void {
    this.inflight++;
  }

  end(): void {
    if (--this.inflight === 0 && this.refs === 0) this.onUnused(this);
  }
}
