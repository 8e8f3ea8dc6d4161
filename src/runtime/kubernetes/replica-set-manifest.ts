import type { V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import type { AppSpec, RuntimeSpec } from '../../model/app-spec.js';
import { APP_LABEL, MANAGED_BY, MANAGED_BY_LABEL, REVISION_LABEL } from './kube-clients.js';

export type KubernetesRuntimeSpec = Extract<RuntimeSpec, { kind: 'kubernetes' }>;

/** `web-r3`: one ReplicaSet (and one revision Service) per revision. */
export function revisionObjectName(app: string, revision: number): string {
  return `${app}-r${revision}`;
}

export function revisionLabels(app: string, revision: number): Record<string, string> {
  return { [APP_LABEL]: app, [REVISION_LABEL]: String(revision), [MANAGED_BY_LABEL]: MANAGED_BY };
}

/**
 * The ReplicaSet of one revision. The pod template is the user's (when given) with cutover's
 * labels added, the image set on the first container (or the one named after the app) and, when
 * that container has no readiness probe, an HTTP probe on the health path.
 *
 * @example
 * replicaSetManifest(spec, runtime, 3, 2) // → ReplicaSet web-r3 with 2 replicas
 */
export function replicaSetManifest(
  spec: Pick<AppSpec, 'name' | 'health'> & Partial<Pick<AppSpec, 'drainTimeoutMs' | 'stopTimeoutMs'>>,
  runtime: KubernetesRuntimeSpec,
  revision: number,
  replicas: number,
  template: V1PodTemplateSpec = {},
): V1ReplicaSet {
  const labels = revisionLabels(spec.name, revision);
  const podSpec = template.spec ?? { containers: [] };
  const containers = podSpec.containers.length > 0 ? [...podSpec.containers] : [{ name: spec.name }];
  const index = Math.max(
    0,
    containers.findIndex((c) => c.name === spec.name),
  );
  const main = containers[index]!;
  containers[index] = {
    ...main,
    image: runtime.image,
    ports: main.ports ?? [{ name: 'http', containerPort: runtime.port }],
    readinessProbe: main.readinessProbe ?? {
      httpGet: { path: spec.health.path, port: runtime.port },
      periodSeconds: Math.max(1, Math.round(spec.health.intervalMs / 1000)),
      timeoutSeconds: Math.max(1, Math.round(spec.health.timeoutMs / 1000)),
      successThreshold: spec.health.healthyThreshold,
      failureThreshold: spec.health.unhealthyThreshold,
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: revisionObjectName(spec.name, revision), labels },
    spec: {
      replicas,
      selector: { matchLabels: { [APP_LABEL]: spec.name, [REVISION_LABEL]: String(revision) } },
      template: {
        ...template,
        metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...labels } },
        // Time for the pod's own drain after SIGTERM (it is out of traffic by then): the app's
        // drain and stop timeouts, unless the template says otherwise.
        spec: { terminationGracePeriodSeconds: terminationGraceSeconds(spec), ...podSpec, containers },
      },
    },
  };
}

/** drainTimeout + stopTimeout in whole seconds (Kubernetes' default 30 when the spec has neither). */
export function terminationGraceSeconds(spec: Partial<Pick<AppSpec, 'drainTimeoutMs' | 'stopTimeoutMs'>>): number {
  if (spec.drainTimeoutMs === undefined && spec.stopTimeoutMs === undefined) return 30;
  return Math.max(1, Math.ceil(((spec.drainTimeoutMs ?? 0) + (spec.stopTimeoutMs ?? 0)) / 1000));
}
