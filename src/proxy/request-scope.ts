import type { Socket } from 'node:net';
import type { AppRoute } from './app-route.js';
import type { BodyRateGuard } from './body-rate-guard.js';
import type { ProxyOptions } from './proxy-options.js';

/** Something long-lived on a listener that must be cut when the listener closes. */
export interface Tunnel {
  destroy(): void;
  /** Ends it cleanly (a gentle close: close frame 1001). */
  goAway(): void;
}

/**
 * What a forwarded request or a WebSocket tunnel needs from where it arrived: the app it goes to,
 * the listener's limits and state. An app's own listener is one (`AppListener`); on the shared
 * listeners of the front door, each app has one per listener.
 */
export interface RequestScope {
  readonly route: AppRoute;
  readonly options: ProxyOptions;
  /** The revision every request goes to (a preview listener); undefined: by plan. */
  readonly previewRevision: number | undefined;
  /** The listener is closing: responses carry `Connection: close`. */
  readonly isClosing: boolean;
  readonly bodyGuard: BodyRateGuard;
  readonly tunnels: Set<Tunnel>;
  /** `X-Forwarded-Proto` written for an untrusted peer: `https` on the TLS listener. */
  readonly forwardedProto: 'http' | 'https';
  /** Added to every response (HSTS on the TLS listener); undefined: none. */
  readonly extraResponseHeaders: readonly string[] | undefined;
  /** True when the peer is a trusted proxy whose X-Forwarded-* headers are kept. */
  isTrustedPeer(socket: Socket): boolean;
  /** Called when a response finished while closing: its connection may now be idle. */
  closeIdleConnections(): void;
}
