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
  /** Relative weight of this group; groups with weight 0 get no traffic. */
  weight: number;
  endpoints: Endpoint[];
}

export interface TrafficPlan {
  app: string;
  /** Increases with every change for this app; acknowledgements name it. */
  version: number;
  listen: { host: string; port: number };
  groups: RevisionGroup[];
}
