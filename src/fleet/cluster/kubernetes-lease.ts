import type { V1Lease } from '@kubernetes/client-node';
import { DEFAULT_LEASE_DURATION_SECONDS } from './cluster-timing.js';
import { APP_LABEL, kubernetesError, MANAGED_BY, MANAGED_BY_LABEL, MERGE_PATCH, statusOf, type KubeClients } from '../../runtime/kubernetes/kube-clients.js';

/** Annotation on the Lease with where the app's rollout stands (JSON), for `kubectl get lease -o yaml`. */
export const ROLLOUT_ANNOTATION = 'cutover.dev/rollout';

export type LeaseState = { isHeld: true } | { isHeld: false; holder: string; expiresAt: Date };

/**
 * A coordination.k8s.io/v1 Lease per app (`cutover-web`) so that one cutover at a time drives an
 * app on a cluster. `hold` takes the Lease when it is free or expired, renews it (at most every
 * third of its duration, or when the rollout summary changed) and says who holds it otherwise.
 * Writes carry the resourceVersion read, so two cutovers racing for an expired Lease cannot both
 * win (the loser gets a 409 and reads again).
 *
 * @example
 * const lease = new KubernetesLease(clients, 'web', 'ci-runner-7/1234');
 * const state = await lease.hold('{"rollout":4,"phase":"progressing"}');
 */
export class KubernetesLease {
  private renewedAtMs = -Infinity;
  private lastSummary: string | null = null;
  readonly name: string;

  constructor(
    private readonly clients: KubeClients,
    private readonly app: string,
    readonly holder: string,
    private readonly durationSeconds = DEFAULT_LEASE_DURATION_SECONDS,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `cutover-${app}`;
  }

  async hold(summary: string | null): Promise<LeaseState> {
    const isFresh = this.now() - this.renewedAtMs < (this.durationSeconds * 1000) / 3;
    if (isFresh && summary === this.lastSummary) return { isHeld: true };
    const { coordination, namespace } = this.clients;
    for (let attempt = 0; attempt < 4; attempt++) {
      const current = await this.read();
      try {
        if (current === null) {
          // Created without times (see body); the next pass of the loop stamps renewTime.
          await coordination.createNamespacedLease({ namespace, body: this.body(summary) });
          continue;
        }
        const holder = current.spec?.holderIdentity ?? '';
        const expiresAt = new Date(expiryMs(current, this.durationSeconds));
        if (holder !== this.holder && holder !== '' && expiresAt.getTime() > this.now()) return { isHeld: false, holder, expiresAt };
        const transitions = (current.spec?.leaseTransitions ?? 0) + (holder === this.holder ? 0 : 1);
        await coordination.patchNamespacedLease(
          {
            name: this.name,
            namespace,
            body: {
              metadata: { resourceVersion: current.metadata?.resourceVersion, annotations: { [ROLLOUT_ANNOTATION]: summary } },
              spec: {
                holderIdentity: this.holder,
                leaseDurationSeconds: this.durationSeconds,
                renewTime: microTime(this.now()),
                leaseTransitions: transitions,
              },
            },
          },
          MERGE_PATCH,
        );
        this.renewedAtMs = this.now();
        this.lastSummary = summary;
        return { isHeld: true };
      } catch (error) {
        // Someone else wrote it between our read and our write: read again.
        if (statusOf(error) !== 409) throw kubernetesError(`taking Lease ${namespace}/${this.name}`, error);
      }
    }
    throw kubernetesError(`taking Lease ${namespace}/${this.name}`, new Error('it kept changing under us (409 again and again)'));
  }

  /** Gives the Lease up (deletes it) when this holder has it; another holder's is left alone. */
  async release(): Promise<void> {
    const { coordination, namespace } = this.clients;
    const current = await this.read();
    if (current?.spec?.holderIdentity !== this.holder) return;
    try {
      await coordination.deleteNamespacedLease({ name: this.name, namespace, body: { preconditions: { resourceVersion: current.metadata?.resourceVersion } } });
    } catch (error) {
      if (statusOf(error) !== 404 && statusOf(error) !== 409) throw kubernetesError(`releasing Lease ${namespace}/${this.name}`, error);
    }
    this.renewedAtMs = -Infinity;
  }

  private async read(): Promise<V1Lease | null> {
    const { coordination, namespace } = this.clients;
    try {
      return await coordination.readNamespacedLease({ name: this.name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw kubernetesError(`reading Lease ${namespace}/${this.name}`, error);
    }
  }

  /** A new Lease without times: the client would send its MicroTimes with three fractional digits; our patch sends six (see microTime). */
  private body(summary: string | null): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        labels: { [APP_LABEL]: this.app, [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: summary === null ? {} : { [ROLLOUT_ANNOTATION]: summary },
      },
      spec: { holderIdentity: this.holder, leaseDurationSeconds: this.durationSeconds, leaseTransitions: 0 },
    };
  }
}

/** When a Lease runs out: its last renewal (or its creation, before the first) plus its duration. */
function expiryMs(lease: V1Lease, fallbackSeconds: number): number {
  const since = lease.spec?.renewTime ?? lease.metadata?.creationTimestamp;
  const sinceMs = since === undefined ? 0 : new Date(since).getTime();
  return sinceMs + (lease.spec?.leaseDurationSeconds ?? fallbackSeconds) * 1000;
}

/** A Kubernetes MicroTime: RFC 3339 with exactly six fractional digits (the server refuses three). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
