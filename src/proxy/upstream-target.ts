import type { LongLivedDrain } from '../model/traffic-plan.js';
import type { EndpointMeter } from './request-meter.js';
import type { UpstreamPool } from './lazy-pool.js';

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
  /** The long-lived drain policy of the latest plan that named this endpoint. */
  longLivedDrain: LongLivedDrain | undefined = undefined;
  /** Open WebSocket tunnels and event streams on this endpoint; created with the first. */
  longLived: Set<LongLivedConnection> | undefined = undefined;
  /** Ends the long-lived connections once the endpoint left every plan (policy `wait`). */
  drainTimer: NodeJS.Timeout | undefined = undefined;
  /** The endpoint left every plan and its long-lived connections were told to go. */
  isSayingGoodbye = false;

  constructor(
    readonly key: string,
    readonly id: string,
    readonly host: string,
    readonly port: number,
    /** The revision whose group this endpoint belongs to. */
    readonly revision: number,
    readonly pool: UpstreamPool,
    private readonly onUnused: (target: UpstreamTarget) => void,
    /** Where requests answered through this endpoint are counted: the meter of the plan generation in force (`RoutingTable.countUnderItsPlan`). */
    public meter: EndpointMeter,
  ) {}

  /** Counts one request or tunnel assigned to this endpoint. Pair with exactly one `end()`. */
  begin(): void {
    this.inflight++;
  }

  end(): void {
    if (--this.inflight === 0 && this.refs === 0) this.onUnused(this);
  }

  /** Counts a long-lived connection; one opened after the goodbye is ended at once. */
  addLongLived(connection: LongLivedConnection): void {
    if (this.isSayingGoodbye) {
      connection.goAway();
      return;
    }
    (this.longLived ??= new Set()).add(connection);
  }

  removeLongLived(connection: LongLivedConnection): void {
    this.longLived?.delete(connection);
  }

  /** Ends every long-lived connection cleanly (see `LongLivedConnection.goAway`). */
  sayGoodbye(): void {
    this.isSayingGoodbye = true;
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    for (const connection of [...(this.longLived ?? [])]) connection.goAway();
  }
}

/** A WebSocket tunnel or an event stream: open for as long as the client likes. */
export interface LongLivedConnection {
  /** Ends it cleanly: a close frame 1001 for a WebSocket, the last chunk for an event stream. */
  goAway(): void;
}
