import type { AppSpec, HostPort } from '../model/app-spec.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import { KubernetesApiError } from '../runtime/kubernetes/kubernetes-api-error.js';
import type { TrafficIntent } from '../strategies/strategy-plan.js';
import type { Store } from '../store/store.js';
import { buildTrafficPlan, longLivedOf, outlierDetectionOf, trafficShares } from './build-traffic-plan.js';
import { type ServingInstance, type TrafficPlan } from '../model/traffic-plan.js';
import type { EventLog } from './event-log.js';

interface PushedPlan {
  /** The plan the router confirmed last; '' when unknown (a push failed or timed out). */
  key: string;
  error: string | null;
}

/**
 * Turns a strategy's traffic intent into a plan over the serving instances and pushes it to the
 * app's router when it changed. Remembers what each router confirmed, so that a stop can wait
 * until its instance has left the plan (rule 2).
 */
export class TrafficPusher {
  private readonly pushed = new Map<string, PushedPlan>();

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly routerOf: (app: string) => TrafficRouter,
  ) {}

  /**
   * Pushes the plan when it changed; returns why it could not be applied, or null. A transient
   * cluster failure (KubernetesApiError) is thrown: the reconcile loop waits for the cluster.
   */
  async push(app: string, spec: AppSpec | null, intent: TrafficIntent, serving: readonly ServingInstance[]): Promise<string | null> {
    const state = this.stateOf(app);
    const plan = buildTrafficPlan(
      app,
      spec?.listen ?? this.lastListen(app),
      intent,
      serving,
      spec === null
        ? {}
        : { outlierDetection: outlierDetectionOf(spec), longLived: longLivedOf(spec), ...(spec.frontDoor ? { frontDoor: spec.frontDoor } : {}) },
    );
    const key = JSON.stringify(plan);
    if (key === state.key) return null;
    if (plan.listen.port === 0 && plan.listen.host !== '') return null; // The app never had a revision to listen for.
    const generation = this.newGeneration(app, plan);
    try {
      await this.routerOf(app).applyPlan(generation === undefined ? plan : { ...plan, generation });
    } catch (error) {
      // The workers may or may not have applied it: push again next time, whatever it holds.
      state.key = '';
      // A cluster that did not answer (5xx, timeout, cut connection) fails no rollout: the reconcile loop waits for it.
      if (error instanceof KubernetesApiError && error.isTransient) throw error;
      const message = (error as Error).message;
      if (message !== state.error) this.events.emitForApp(app, 'traffic-failed', `the proxy could not apply the traffic plan: ${message}`);
      state.error = message;
      return message;
    }
    state.key = key;
    state.error = null;
    const shares = trafficShares(plan);
    this.store.setTraffic(app, shares);
    const split = shares.map((g) => `rev ${g.revision}: ${g.weight}% (${g.instances} instance${g.instances === 1 ? '' : 's'})`).join(', ') || 'none';
    const extras = [
      plan.routes?.length ? `${plan.routes.length} route${plan.routes.length === 1 ? '' : 's'}` : '',
      plan.previews?.length ? 'preview listener' : '',
      plan.sticky ? 'sticky' : '',
      plan.mirror ? `mirror ${plan.mirror.percent}%` : '',
    ]
      .filter(Boolean)
      .join(', ');
    this.events.emitForApp(app, 'traffic', `traffic → ${split}${extras ? ` [${extras}]` : ''}`);
    return null;
  }

  /** A number for the plan, so the data plane counts its requests under it (deploy reports); none when the store cannot record it: traffic comes first. */
  private newGeneration(app: string, plan: TrafficPlan): number | undefined {
    try {
      return this.store.addPlanGeneration(app, Date.now(), trafficShares(plan));
    } catch {
      return undefined;
    }
  }

  /** Why the last push failed, or null when the router applied it. */
  lastError(app: string): string | null {
    return this.stateOf(app).error;
  }

  /** The router confirmed a plan that no longer holds the instance. */
  isConfirmedWithout(app: string, instanceId: string): boolean {
    const { key } = this.stateOf(app);
    const marker = JSON.stringify({ id: instanceId }).slice(1, -1);
    return key !== '' && !key.includes(marker);
  }

  private lastListen(app: string): HostPort {
    return this.store.latestRevision(app)?.spec.listen ?? { host: '127.0.0.1', port: 0 };
  }

  private stateOf(app: string): PushedPlan {
    let state = this.pushed.get(app);
    if (!state) {
      state = { key: '', error: null };
      this.pushed.set(app, state);
    }
    return state;
  }
}
