import type { TrafficPlan } from '../model/traffic-plan.js';
import type { SourcedMeasurements } from '../model/measurements.js';

/** Counters of one endpoint since the data plane started, for analysis. */
export interface EndpointStats {
  endpointId: string;
  /** Requests sent to it. */
  requests: number;
  inflight: number;
  responses2xx: number;
  responses5xx: number;
  /** Connections to it that could not be established. */
  connectionErrors: number;
  /** Responses that broke off or never came. */
  responseErrors: number;
  retries: number;
  redispatches: number;
  /** Average over recent requests. */
  avgResponseTimeMs: number;
}

/**
 * The verbs the control plane needs from a load balancer: the built-in proxy over IPC, or
 * HAProxy over its runtime API.
 */
export interface TrafficRouter {
  /** Resolves once every data-plane process serves the plan (its version is ignored: the router numbers plans). */
  applyPlan(plan: TrafficPlan): Promise<void>;
  /** Stops serving the app's listen address. */
  removeApp(app: string): Promise<void>;
  /** In-flight requests per endpoint id, summed over the data plane. */
  inflight(): Promise<Record<string, number>>;
  /** Per-endpoint counters; absent where the data plane cannot tell yet ("unsupported"). */
  endpointStats?(): Promise<EndpointStats[]>;
  /**
   * Cumulative request counts and latency per instance, one snapshot per data-plane process (the
   * built-in proxy); absent where the router cannot tell ("unsupported").
   */
  measurements?(): Promise<SourcedMeasurements[]>;
  /**
   * Calls `listener` when counts moved since the last `measurements()` (the built-in proxy says
   * so), so nothing is read while nothing moves; without it, `measurements()` is polled all the time.
   */
  onMeasurementsMoved?(listener: () => void): void;
  /** Some counts `measurements()` reads can only be polled (an HAProxy's): `onMeasurementsMoved` does not cover them. */
  hasPolledMeasurements?(): boolean;
  /** Releases what the router holds (a managed HAProxy stops). */
  close?(): Promise<void>;
}
