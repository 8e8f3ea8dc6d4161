import type { ServingInstance } from '../model/traffic-plan.js';
import type { ObservedInstance } from '../strategies/strategy-plan.js';

/**
 * Where an app's instances run: processes this controller supervises (`LocalFleet`) or pods a
 * cluster runs (`ClusterFleet`). A rollout pass observes the fleet once and acts on what it saw.
 */
export interface Fleet {
  observe(app: string, nowMs: number): Promise<ObservedFleet>;
}

/** One observation of an app's instances, with the actions a pass takes on it. */
export interface ObservedFleet {
  /** Live instances (starting, ready) as the planners see them; draining ones are left out. */
  readonly instances: readonly ObservedInstance[];
  /** Ready instances with an address, except those leaving and those of the warm revision. */
  serving(leavingIds: readonly string[], warmRevision: number | null): ServingInstance[];
  /** Begins stopping instances the plan dropped (already out of the confirmed traffic plan). */
  beginStops(ids: readonly string[], why: string): void;
  /** Starts what the plan asks for (and, where stops are counts, applies the stops too). */
  applySizes(starts: readonly { revision: number; count: number }[], stopIds: readonly string[], startedBy: (revision: number) => number | null): Promise<void>;
  /** Nothing of the app should run: everything goes (already out of traffic). */
  stopEverything(): Promise<void>;
  /** Instances are still on their way out (a rollout is done only when they are gone). */
  isDraining(): boolean;
}
