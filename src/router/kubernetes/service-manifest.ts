import type { V1Service } from '@kubernetes/client-node';
import { APP_LABEL, MANAGED_BY, MANAGED_BY_LABEL, REVISION_LABEL } from '../../runtime/kubernetes/kube-clients.js';

/**
 * A Service cutover creates when it is missing: on one revision of the app, or (revision null)
 * on every revision, serving the container port.
 *
 * @example
 * serviceManifest('web', 'web', 3, 8080) // → Service web selecting revision 3
 */
export function serviceManifest(app: string, name: string, revision: number | null, port: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: { [APP_LABEL]: app, [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: {
      selector: { [APP_LABEL]: app, ...(revision === null ? {} : { [REVISION_LABEL]: String(revision) }) },
      ports: [{ name: 'http', port, targetPort: port }],
    },
  };
}
