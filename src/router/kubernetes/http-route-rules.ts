import type { TrafficPlan } from '../../model/traffic-plan.js';
import { revisionObjectName } from '../../runtime/kubernetes/replica-set-manifest.js';

/** The Gateway API HTTPRoute the canary uses (v1; backendRefs weights and header matches). */
export const HTTP_ROUTE_API = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;

export interface HttpRouteBackendRef {
  name: string;
  port: number;
  weight: number;
}

export interface HttpRouteRule {
  matches?: { headers: { type: 'Exact'; name: string; value: string }[] }[];
  backendRefs: HttpRouteBackendRef[];
}

export interface HttpRouteRules {
  rules: HttpRouteRule[];
  /** Parts of the plan an HTTPRoute cannot express (cookie matches, sticky, mirror), in words. */
  unsupported: string[];
}

/**
 * The `spec.rules` of the app's HTTPRoute for a plan: one rule per header route (first match
 * wins, as in the plan), then one rule with every group as a weighted backendRef to its revision
 * Service (`web-r3`). Weights are the plan's integers; a group of weight 0 stays listed so a
 * rollback needs one patch.
 *
 * @example
 * httpRouteRules({ ...plan, groups: [{ revision: 2, weight: 90, endpoints }, { revision: 3, weight: 10, endpoints }] }, 8080)
 * // → { rules: [{ backendRefs: [{ name: 'web-r2', port: 8080, weight: 90 }, { name: 'web-r3', port: 8080, weight: 10 }] }], unsupported: [] }
 */
export function httpRouteRules(plan: TrafficPlan, port: number): HttpRouteRules {
  const ref = (revision: number, weight: number): HttpRouteBackendRef => ({ name: revisionObjectName(plan.app, revision), port, weight });
  const unsupported: string[] = [];
  const rules: HttpRouteRule[] = [];
  for (const route of plan.routes ?? []) {
    if ('header' in route.match) {
      rules.push({
        matches: [{ headers: [{ type: 'Exact', name: route.match.header.name, value: route.match.header.value }] }],
        backendRefs: [ref(route.revision, 1)],
      });
    } else {
      unsupported.push(`cookie match ${route.match.cookie.name}=${route.match.cookie.value} (HTTPRoute matches headers, not cookies)`);
    }
  }
  if (plan.sticky) unsupported.push('sticky sessions (set session persistence on the Gateway)');
  if (plan.mirror) unsupported.push(`mirroring ${plan.mirror.percent}% to revision ${plan.mirror.revision}`);
  rules.push({ backendRefs: plan.groups.map((group) => ref(group.revision, group.weight)) });
  return { rules, unsupported };
}
