import type { TrafficPlan } from '../../model/traffic-plan.js';
import {
  APP_LABEL,
  kubernetesError,
  MERGE_PATCH,
  REVISION_LABEL,
  statusOf,
  withConflictRetry,
  type KubeClients,
} from '../../runtime/kubernetes/kube-clients.js';
import { revisionObjectName } from '../../runtime/kubernetes/replica-set-manifest.js';
import type { TrafficRouter } from '../traffic-router.js';
import { HTTP_ROUTE_API, httpRouteRules } from './http-route-rules.js';
import { serviceManifest } from './service-manifest.js';

/** How the last plan's weights reached the cluster. */
export type WeightMode = 'exact' | 'replica-ratio';

export interface KubernetesRouterOptions {
  app: string;
  /** The Service clients reach; its selector picks one revision, or every revision of the app. */
  service: string;
  /** The HTTPRoute that carries weights and header matches; null: replica-ratio approximation. */
  httpRoute: string | null;
  /** The container port the Services target. */
  port: number;
  /** Told what a plan asks for that the cluster cannot do. */
  onNotice?: (message: string) => void;
}

/**
 * Applies traffic plans with Kubernetes objects:
 * - one group with weight: the Service selector points at that revision (blue-green switch, one
 *   merge patch, atomic);
 * - several weighted groups and an HTTPRoute: per-revision Services as weighted backendRefs, plus
 *   header matches;
 * - several weighted groups and no HTTPRoute: the Service selects every revision of the app, so
 *   traffic splits by ready pod count: the weight is only approximated by the replica ratio, and
 *   `weightMode` says so.
 * There is no data plane of cutover's own here: `inflight` is empty (draining is the pods'
 * terminationGracePeriod) and per-endpoint stats are not offered.
 *
 * @example
 * const router = new KubernetesRouter(clients, { app: 'web', service: 'web', httpRoute: 'web', port: 8080 });
 * await router.applyPlan(plan);
 */
export class KubernetesRouter implements TrafficRouter {
  /** `replica-ratio` when the last plan split traffic without an HTTPRoute. */
  weightMode: WeightMode = 'exact';

  constructor(
    private readonly clients: KubeClients,
    private readonly options: KubernetesRouterOptions,
  ) {}

  async applyPlan(plan: TrafficPlan): Promise<void> {
    const { app, httpRoute } = this.options;
    const weighted = plan.groups.filter((group) => group.weight > 0);
    const routed = new Set([...plan.groups.map((g) => g.revision), ...(plan.routes ?? []).map((r) => r.revision)]);
    if (httpRoute !== null) {
      for (const revision of routed) await this.ensureService(revisionObjectName(app, revision), revision);
      const { rules, unsupported } = httpRouteRules(plan, this.options.port);
      for (const what of unsupported) this.notice(`${app}: the HTTPRoute cannot express ${what}; ignored`);
      await this.patchHttpRoute(httpRoute, rules);
      this.weightMode = 'exact';
    } else if (weighted.length > 1 || (plan.routes ?? []).length > 0) {
      this.weightMode = 'replica-ratio';
      this.notice(
        `${app}: no httpRoute, so the weights ${weighted.map((g) => `r${g.revision}=${g.weight}`).join(' ')} are approximated by the ratio of ready pods, and header or cookie routes are ignored`,
      );
    } else {
      this.weightMode = 'exact';
    }
    // With an HTTPRoute the main Service still follows the one weighted revision, so clients of the Service see the same switch.
    const only = weighted.length === 1 ? weighted[0]!.revision : null;
    if (weighted.length > 0) await this.ensureService(this.options.service, only);
    const preview = previewRevision(plan);
    if (preview !== null) await this.ensureService(`${this.options.service}-preview`, preview);
  }

  async removeApp(): Promise<void> {
    // The Service and HTTPRoute belong to the user; revision Services go with their revisions.
  }

  async inflight(): Promise<Record<string, number>> {
    return {};
  }

  /** Creates the Service when missing; otherwise sets its selector to one revision (or, for null, every revision of the app). */
  private async ensureService(name: string, revision: number | null): Promise<void> {
    const { core, namespace } = this.clients;
    const selector = { [APP_LABEL]: this.options.app, [REVISION_LABEL]: revision === null ? null : String(revision) };
    try {
      await withConflictRetry(`switching Service ${namespace}/${name} to ${revision === null ? 'every revision' : `revision ${revision}`}`, () =>
        core.patchNamespacedService({ name, namespace, body: { spec: { selector } } }, MERGE_PATCH),
      );
      return;
    } catch (error) {
      if (statusOf((error as Error).cause) !== 404) throw error;
    }
    const body = serviceManifest(this.options.app, name, revision, this.options.port);
    try {
      await core.createNamespacedService({ namespace, body });
    } catch (error) {
      // Someone created it between our patch and our create: patch again.
      if (statusOf(error) !== 409) throw kubernetesError(`creating Service ${namespace}/${name}`, error);
      await core.patchNamespacedService({ name, namespace, body: { spec: { selector } } }, MERGE_PATCH);
    }
  }

  private async patchHttpRoute(name: string, rules: unknown[]): Promise<void> {
    const { custom, namespace } = this.clients;
    await withConflictRetry(`setting the rules of HTTPRoute ${namespace}/${name}`, () =>
      custom.patchNamespacedCustomObject({ ...HTTP_ROUTE_API, namespace, name, body: { spec: { rules } } }, MERGE_PATCH),
    );
  }

  private notice(message: string): void {
    this.options.onNotice?.(message);
  }
}

/**
 * The revision the `SERVICE-preview` Service selects: the one a preview address serves, else the
 * one only header or cookie routes reach (a blue-green preview by header): on a cluster, clients
 * that cannot set the header reach green through that Service.
 */
export function previewRevision(plan: TrafficPlan): number | null {
  const listened = plan.previews?.[0];
  if (listened) return listened.revision;
  const weightOf = (revision: number) => plan.groups.find((g) => g.revision === revision)?.weight ?? 0;
  return (plan.routes ?? []).find((route) => weightOf(route.revision) === 0)?.revision ?? null;
}
