import type { TrafficPlan } from '../model/traffic-plan.js';

/**
 * The verbs the control plane needs from a load balancer. The built-in proxy implements it
 * over IPC; HAProxy and Kubernetes routers come later.
 */
export interface TrafficRouter {
  /** Resolves once every data-plane process serves the plan (its version is ignored: the router numbers plans). */
  applyPlan(plan: TrafficPlan): Promise<void>;
  /** Stops serving the app's listen address. */
  removeApp(app: string): Promise<void>;
  /** In-flight requests per endpoint id, summed over the data plane. */
  inflight(): Promise<Record<string, number>>;
}
