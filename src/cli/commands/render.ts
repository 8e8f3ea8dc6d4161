import { stringify } from 'yaml';
import { InputError } from '../../errors.js';
import { httpRouteRules, HTTP_ROUTE_API } from '../../router/kubernetes/http-route-rules.js';
import { serviceManifest } from '../../router/kubernetes/service-manifest.js';
import { readPodTemplate } from '../../runtime/kubernetes/kubernetes-runtime.js';
import { replicaSetManifest, revisionObjectName } from '../../runtime/kubernetes/replica-set-manifest.js';
import { loadConfig } from '../../spec/index.js';
import type { GlobalOptions } from '../context.js';
import path from 'node:path';

/**
 * `cutover render APP`: the Kubernetes objects cutover would apply for one revision of the app
 * (default 1), as YAML documents, for review and GitOps. Reads only the config: no daemon, no
 * cluster. The HTTPRoute belongs to the user; cutover sets only its `spec.rules`, shown here
 * with all traffic on the rendered revision.
 */
export async function render(app: string, options: GlobalOptions & { revision: string }): Promise<void> {
  const config = loadConfig(path.resolve(options.config));
  const spec = config.apps.find((a) => a.name === app);
  if (!spec)
    throw new InputError('APP_NOT_FOUND', `app "${app}" is not in ${options.config}`, { hint: `the config has: ${config.apps.map((a) => a.name).join(', ')}` });
  const runtime = spec.runtime;
  if (runtime?.kind !== 'kubernetes')
    throw new InputError('RUNTIME_NOT_SUPPORTED', `app "${app}" runs local processes: there is nothing to render`, {
      hint: 'render is for apps with runtime: { kubernetes: … }',
    });
  const revision = Number(options.revision);
  if (!Number.isInteger(revision) || revision < 1)
    throw new InputError('BAD_REQUEST', `--revision must be a whole number ≥ 1, not ${JSON.stringify(options.revision)}`);
  const router = spec.router?.kind === 'kubernetes' ? spec.router : { service: app, httpRoute: null };
  const namespace = runtime.namespace === null ? {} : { namespace: runtime.namespace };
  const withNamespace = <T extends { metadata?: object }>(object: T): T => ({ ...object, metadata: { ...object.metadata, ...namespace } });
  const documents: unknown[] = [
    withNamespace(replicaSetManifest(spec, runtime, revision, spec.replicas, readPodTemplate(runtime))),
    withNamespace(serviceManifest(app, router.service, revision, runtime.port)),
  ];
  if (router.httpRoute !== null) {
    const plan = { app, version: 0, listen: spec.listen, groups: [{ revision, weight: 100, endpoints: [] }] };
    documents.push(withNamespace(serviceManifest(app, revisionObjectName(app, revision), revision, runtime.port)));
    documents.push(
      withNamespace({
        apiVersion: `${HTTP_ROUTE_API.group}/${HTTP_ROUTE_API.version}`,
        kind: 'HTTPRoute',
        metadata: { name: router.httpRoute },
        spec: { rules: httpRouteRules(plan, runtime.port).rules },
      }),
    );
  }
  process.stdout.write(documents.map((document) => stringify(document)).join('---\n'));
}
