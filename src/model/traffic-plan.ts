/**
 * What the data plane must do for one app right now. The controller computes it; the proxy
 * swaps it in atomically. Plans are plain JSON so they cross process boundaries unchanged.
 */
export interface Endpoint {
  /** Instance id, stable for the life of the instance (e.g. `web-3-a1b2`). */
  id: string;
  host: string;
  port: number;
}

export interface RevisionGroup {
  revision: number;
  /**
   * Relative weight of this group; groups with weight 0 get no weighted traffic, but routes,
   * previews and mirroring may still name them.
   */
  weight: number;
  endpoints: Endpoint[];
}

/** An exact match on one request header (name case-insensitive, value case-sensitive). */
export interface HeaderMatch {
  header: { name: string; value: string };
}

/** An exact match on one cookie of the request's Cookie header. */
export interface CookieMatch {
  cookie: { name: string; value: string };
}

/**
 * Requests that match go to `revision`'s group whatever its weight. Rules are checked in order
 * before weights; the first match wins. A rule whose group has no endpoint is skipped. A
 * routed request is retried only inside its group.
 */
export interface RouteRule {
  revision: number;
  match: HeaderMatch | CookieMatch;
}

/** An extra listener whose requests all go to one revision (the blue-green preview). */
export interface PreviewListener {
  listen: { host: string; port: number };
  revision: number;
}

/**
 * Weighted choice by a hash of a cookie's value instead of round robin, so one client stays on
 * one side. Groups own consecutive ranges of the hash space in plan order: the controller lists
 * the canary first, so its range [0, w) only grows while its weight grows. A request without
 * the cookie gets a fresh random value, set on the response with Max-Age = ttl.
 */
export interface StickyAssignment {
  cookie: string;
  ttlMs: number;
}

/**
 * Copies `percent` of the requests that went to other groups to `revision`'s group. The copy's
 * answer is dropped; it never delays or fails the real request, and copies are bounded in
 * concurrency and body size (beyond either, no copy is made).
 */
export interface MirrorRule {
  revision: number;
  percent: number;
}

/**
 * Passive outlier ejection: an endpoint whose tries fail `consecutiveFailures` times in a row
 * (a 5xx answer, or a connection refused, reset or timed out) leaves its revision's pool for
 * `ejectForMs`; never more than half of a revision's endpoints, never the last one. Absent or
 * `consecutiveFailures: 0`: no ejection.
 */
export interface OutlierDetection {
  consecutiveFailures: number;
  ejectForMs: number;
}

/**
 * What happens to an endpoint's WebSocket tunnels and Server-Sent-Events streams once it left
 * the plan: `wait` lets them run until they end or `timeoutMs` passes, `close` ends them at
 * once; either way the proxy ends them cleanly (close frame 1001, the stream's last chunk),
 * never with a reset. Absent: they run until the instance stops.
 */
export interface LongLivedDrain {
  drain: 'wait' | 'close';
  timeoutMs: number;
}

/**
 * The app on the shared listeners (the front door): its hosts, path prefixes and certificate.
 * `tls: { cert, key }` holds absolute file paths the proxy reads and watches; `acme`: the
 * certificate the ACME client keeps in the data dir; false: plain HTTP only.
 */
export interface FrontDoorRoute {
  hosts: string[];
  paths: string[];
  tls: 'acme' | { cert: string; key: string } | false;
}

export interface TrafficPlan {
  app: string;
  /** Increases with every change for this app; acknowledgements name it. */
  version: number;
  /**
   * The controller's number for this plan, unique across restarts (deploy reports count every
   * request under the generation that routed it); absent in plans not made by a controller.
   */
  generation?: number;
  /** `{ host: '', port: 0 }`: the app has no listener of its own, only `frontDoor`. */
  listen: { host: string; port: number };
  frontDoor?: FrontDoorRoute;
  groups: RevisionGroup[];
  routes?: RouteRule[];
  previews?: PreviewListener[];
  sticky?: StickyAssignment;
  mirror?: MirrorRule;
  outlierDetection?: OutlierDetection;
  longLived?: LongLivedDrain;
}

/** An instance that may take traffic: ready and not on its way out. */
export interface ServingInstance {
  id: string;
  revision: number;
  host: string;
  port: number;
}
