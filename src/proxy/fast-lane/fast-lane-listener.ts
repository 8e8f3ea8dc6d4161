import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { AppRoute } from '../app-route.js';
import type { ProxyOptions } from '../proxy-options.js';

/** The app one fast-lane request goes to. */
export interface FastScope {
  readonly route: AppRoute;
  /** The revision every request goes to (a preview listener); undefined: by plan. */
  readonly previewRevision: number | undefined;
  /** Header lines (`name: value\r\n`…) added to every upstream response (HSTS on the TLS listener); '' for none. */
  readonly extraResponseHead: string;
}

/**
 * What a fast connection asks the listener it arrived on: its limits and state, and per request
 * which app serves it. An app's own listener answers itself for every request; a shared listener
 * of the front door picks the app by Host and path, and sends what it answers itself (unknown
 * hosts, redirects, ACME challenges) to the strict lane.
 */
export interface FastLaneListener {
  /** The HTTP server whose connections start in the fast lane (the strict lane is its own handling). */
  readonly server: Server | Http2SecureServer;
  readonly options: ProxyOptions;
  /** The listener is closing: responses carry `Connection: close`. */
  readonly isClosing: boolean;
  /** `X-Forwarded-Proto` written upstream: `https` on the TLS listener. */
  readonly forwardedProto: 'http' | 'https';
  /** True when the peer is a trusted proxy: its connections go to the strict lane, which keeps its forwarding headers. */
  isTrustedPeer(socket: Socket): boolean;
  /**
   * The app of a plain request by its Host header and request target; undefined: the strict lane
   * serves it (the connection is handed over at this request and stays there).
   */
  fastScopeFor(host: string, target: string, socket: Socket): FastScope | undefined;
}
