import type { FrontDoorRoute, LongLivedDrain, OutlierDetection, ServingInstance, TrafficPlan } from '../model/traffic-plan.js';
import type { AppSpec, HostPort } from '../model/app-spec.js';
import { DEFAULT_OUTLIER_CONSECUTIVE_FAILURES, DEFAULT_OUTLIER_EJECT_FOR_MS } from '../config/defaults.js';
import type { TrafficIntent } from '../strategies/strategy-plan.js';
import type { TrafficShare } from '../model/records.js';

/**
 * Turns a strategy's traffic intent into the plan the proxy applies. With no weights, every
 * serving instance gets an equal share; with weights, each listed revision gets its weight
 * (in the given order) and unlisted revisions get nothing. `outlierDetection` goes into the
 * plan unless it is off (see `outlierDetectionOf`), `longLived` as given. Pure.
 */
export function buildTrafficPlan(
  app: string,
  listen: HostPort,
  intent: TrafficIntent,
  serving: readonly ServingInstance[],
  policies: { outlierDetection?: OutlierDetection; longLived?: LongLivedDrain; frontDoor?: FrontDoorRoute } = {},
): TrafficPlan {
  const { outlierDetection, longLived, frontDoor } = policies;
  const byRevision = new Map<number, ServingInstance[]>();
  for (const instance of serving) byRevision.set(instance.revision, [...(byRevision.get(instance.revision) ?? []), instance]);
  const endpointsOf = (revision: number) => (byRevision.get(revision) ?? []).map(({ id, host, port }) => ({ id, host, port }));
  const groups =
    intent.weights === null
      ? [...byRevision.entries()].map(([revision, members]) => ({ revision, weight: members.length, endpoints: endpointsOf(revision) }))
      : intent.weights.filter((w) => byRevision.has(w.revision)).map(({ revision, weight }) => ({ revision, weight, endpoints: endpointsOf(revision) }));
  const plan: TrafficPlan = { app, version: 0, listen, groups };
  if (intent.routes.length) plan.routes = intent.routes.map(({ revision, match }) => ({ revision, match }));
  if (intent.previews.length) plan.previews = intent.previews.map(({ listen: address, revision }) => ({ listen: address, revision }));
  if (intent.sticky) plan.sticky = { ...intent.sticky };
  if (intent.mirror) plan.mirror = { ...intent.mirror };
  if (outlierDetection !== undefined && outlierDetection.consecutiveFailures > 0) plan.outlierDetection = { ...outlierDetection };
  if (longLived !== undefined) plan.longLived = { ...longLived };
  if (frontDoor !== undefined)
    plan.frontDoor = {
      hosts: [...frontDoor.hosts],
      paths: [...frontDoor.paths],
      tls: typeof frontDoor.tls === 'object' ? { ...frontDoor.tls } : frontDoor.tls,
    };
  return plan;
}

/** What the proxy does with a leaving instance's WebSockets and event streams: the app's own policy, else wait up to drainTimeout. */
export function longLivedOf(spec: AppSpec): LongLivedDrain {
  return spec.longLived ?? { drain: 'wait', timeoutMs: spec.drainTimeoutMs };
}

/** The outlier ejection an app's plans carry: its own, else the defaults (on). */
export function outlierDetectionOf(spec: AppSpec): OutlierDetection {
  return spec.outlierDetection ?? { consecutiveFailures: DEFAULT_OUTLIER_CONSECUTIVE_FAILURES, ejectForMs: DEFAULT_OUTLIER_EJECT_FOR_MS };
}

/** The share of weighted traffic each revision of a plan gets, in percent (one decimal). */
export function trafficShares(plan: TrafficPlan): TrafficShare[] {
  const routable = plan.groups.filter((g) => g.endpoints.length > 0 && g.weight > 0);
  const total = routable.reduce((sum, g) => sum + g.weight, 0);
  return plan.groups
    .filter((g) => g.endpoints.length > 0)
    .map((g) => ({ revision: g.revision, weight: total > 0 && g.weight > 0 ? Math.round((g.weight / total) * 1000) / 10 : 0, instances: g.endpoints.length }));
}
