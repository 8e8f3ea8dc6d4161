/**
 * A small in-memory Kubernetes API server on 127.0.0.1 for unit tests (layer (a) of
 * KUBERNETES-TESTING.md): create, get, list (with an equality labelSelector), merge-patch,
 * replace with a resourceVersion check (409 on a stale one) and delete, for any namespaced
 * resource path, plus fault injection.
 *
 * Every object it is sent (POST, PUT) and every object a merge PATCH would leave behind is
 * checked with the `kubernetes-models` schema of its resource (ReplicaSet, Deployment, Pod,
 * Service, ConfigMap, Lease, Gateway API HTTPRoute) and refused, as a real server does, with a
 * 422 `Status` (reason `Invalid`, the field and its value in the message); the object stays as it
 * was. Refusals are listed in `rejected`, so a suite can assert that the provider sent nothing
 * invalid. Resources it has no model for pass unchecked. It does no defaulting or controller work
 * and checks only the schema (not names, not selector against labels, not CEL rules), so it is
 * never the only evidence that the provider works.
 *
 * Faults: a status instead of the answer, an answer after a delay (the request is carried out
 * after the wait, as by a slow server), or a connection cut in the middle of the answer (the
 * request was carried out); each for the next `times` matching requests.
 *
 * @example
 * const api = await startFakeKubeApi();
 * api.failNext({ method: 'PATCH', pathIncludes: '/services/web', status: 409 });
 * api.failNext({ method: 'GET', pathIncludes: '/pods', status: 500, times: 3 });
 * api.failNext({ method: 'GET', pathIncludes: '/replicasets', delayMs: 60_000 });
 * await api.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { HTTPRoute as HTTPRouteV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/HTTPRoute';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';

export interface Fault {
  method: string;
  pathIncludes: string;
  /** Answer this status (a `Status` object) instead of carrying out the request. */
  status?: number;
  /** Wait this long before answering (and before carrying out the request). */
  delayMs?: number;
  /** Carry out the request, then cut the connection halfway through the answer's body. */
  isDropped?: boolean;
  /** How many matching requests the fault hits, one after another (default 1). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
  /** The status answered (or that was being answered when the connection was cut). */
  status?: number;
  /** Which fault hit the request, if any. */
  fault?: 'status' | 'delay' | 'drop';
}

/** A write the fake refused because its object failed the schema. */
export interface RejectedWrite {
  method: string;
  path: string;
  /** The 422 Status message, e.g. `ReplicaSet.apps "web-r3" is invalid: spec.replicas: Invalid value: "three": must be integer`. */
  message: string;
}

type KubeObject = {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [key: string]: unknown };
  [key: string]: unknown;
};

export interface FakeKubeApi {
  url: string;
  /** Stored objects by their object path, e.g. `/apis/apps/v1/namespaces/shop/replicasets/web-1`. */
  objects: Map<string, KubeObject>;
  requests: RecordedRequest[];
  /** Writes refused with 422 because the object failed its schema; empty when the provider sent only valid objects. */
  rejected: RejectedWrite[];
  /** The next `fault.times` (default 1) requests that match meet the fault. */
  failNext(fault: Fault): void;
  /** How many fault hits are still waiting for a request. */
  pendingFaults(): number;
  /** Stores an object as if someone else created it (a pod made by the ReplicaSet controller); not validated. */
  put(collectionPath: string, object: KubeObject): void;
  close(): Promise<void>;
}

interface ModelClass {
  new (data: never): { validate(): void };
  readonly apiVersion: string;
  readonly kind: string;
}

/** Models by `apiVersion/plural`, the way a server knows the kind from the path. */
const MODELS: Record<string, ModelClass> = {
  'v1/pods': Pod,
  'v1/services': Service,
  'v1/configmaps': ConfigMap,
  'apps/v1/replicasets': ReplicaSet,
  'apps/v1/deployments': Deployment,
  'coordination.k8s.io/v1/leases': Lease,
  'gateway.networking.k8s.io/v1/httproutes': HTTPRoute,
  'gateway.networking.k8s.io/v1beta1/httproutes': HTTPRouteV1beta1,
};

const RESOURCE_PATH = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+))?$/;

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const objects = new Map<string, KubeObject>();
  const requests: RecordedRequest[] = [];
  const rejected: RejectedWrite[] = [];
  const faults: (Fault & { left: number })[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let resourceVersion = 1;

  const store = (path: string, object: KubeObject): KubeObject => {
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++resourceVersion) } };
    objects.set(path, stored);
    return stored;
  };

  /** Carries out a request on the store; returns the status and body to answer. */
  const handle = (method: string, url: URL, body: unknown): { status: number; body: unknown } => {
    const resource = RESOURCE_PATH.exec(url.pathname);
    if (resource === null) return status(404, `${url.pathname} not found`, 'NotFound');
    const [, group, version, plural, name] = resource;
    const apiVersion = group === undefined ? 'v1' : `${group}/${version}`;
    const model = MODELS[`${apiVersion}/${plural}`];
    const refusal = (object: unknown): { status: number; body: unknown } | null => {
      const problem = invalidity(model, apiVersion, object);
      if (problem === null) return null;
      if (problem.code === 422) rejected.push({ method, path: url.pathname, message: problem.message });
      return { status: problem.code, body: problem.status };
    };
    if (name === undefined) {
      if (method === 'GET') {
        const selector = parseSelector(url.searchParams.get('labelSelector'));
        const items = [...objects.entries()]
          .filter(([path, object]) => path.startsWith(`${url.pathname}/`) && !path.slice(url.pathname.length + 1).includes('/') && matches(object, selector))
          .map(([, object]) => object);
        return { status: 200, body: { kind: `${model?.kind ?? ''}List`, apiVersion, metadata: { resourceVersion: String(resourceVersion) }, items } };
      }
      if (method === 'POST') {
        const object = body as KubeObject;
        const refused = refusal(object);
        if (refused) return refused;
        const path = `${url.pathname}/${object.metadata.name}`;
        if (objects.has(path)) return status(409, `${kindOf(model, plural!)} "${object.metadata.name}" already exists`, 'AlreadyExists');
        return { status: 201, body: store(path, object) };
      }
    } else {
      const existing = objects.get(url.pathname);
      if (existing === undefined) return status(404, `${kindOf(model, plural!)} "${name}" not found`, 'NotFound');
      if (method === 'GET') return { status: 200, body: existing };
      if (method === 'DELETE') {
        const expected = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions?.resourceVersion;
        if (expected !== undefined && expected !== existing.metadata.resourceVersion) return status(409, 'the object has been modified', 'Conflict');
        objects.delete(url.pathname);
        return { status: 200, body: existing };
      }
      if (method === 'PATCH') {
        // A resourceVersion in the patch is a precondition, as on a real server.
        const expected = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        if (expected !== undefined && expected !== existing.metadata.resourceVersion) return status(409, 'the object has been modified', 'Conflict');
        const patched = mergePatch(existing, body) as KubeObject;
        return refusal(patched) ?? { status: 200, body: store(url.pathname, patched) };
      }
      if (method === 'PUT') {
        const replacement = body as KubeObject;
        if (replacement.metadata.resourceVersion !== undefined && replacement.metadata.resourceVersion !== existing.metadata.resourceVersion) {
          return status(409, 'the object has been modified', 'Conflict');
        }
        return refusal(replacement) ?? { status: 200, body: store(url.pathname, replacement) };
      }
    }
    return status(405, `${method} ${url.pathname} is not supported by the fake`, 'MethodNotAllowed');
  };

  const answer = (response: ServerResponse, record: RecordedRequest, fault: Fault | undefined, method: string, url: URL, body: unknown): void => {
    if (response.destroyed) return; // The client gave up while we waited.
    const result = fault?.status !== undefined ? status(fault.status, 'injected fault', reasonOf(fault.status)) : handle(method, url, body);
    record.status = result.status;
    const text = JSON.stringify(result.body);
    if (fault?.isDropped) {
      // Headers and half the body (chunked, as the apiserver streams), then the connection goes. With a
      // content-length instead, node-fetch 2 (under client-node 1.4) would not notice and wait for the rest until the request timeout.
      response.writeHead(result.status, { 'content-type': 'application/json' });
      response.write(text.slice(0, Math.floor(text.length / 2)), () => response.socket?.destroy());
      return;
    }
    send(response, result.status, text);
  };

  const server = createServer((request, response) => {
    void readJson(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const method = request.method ?? 'GET';
      const record: RecordedRequest = { method, path: url.pathname, contentType: request.headers['content-type'], body };
      requests.push(record);
      const faultIndex = faults.findIndex((f) => f.method === method && url.pathname.includes(f.pathIncludes));
      const fault = faultIndex >= 0 ? faults[faultIndex] : undefined;
      if (fault !== undefined && --fault.left === 0) faults.splice(faultIndex, 1);
      if (fault !== undefined) record.fault = fault.isDropped ? 'drop' : fault.delayMs !== undefined ? 'delay' : 'status';
      if (fault?.delayMs === undefined) return answer(response, record, fault, method, url, body);
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer(response, record, fault, method, url, body);
      }, fault.delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    rejected,
    failNext: (fault) => void faults.push({ ...fault, left: fault.times ?? 1 }),
    pendingFaults: () => faults.reduce((sum, f) => sum + f.left, 0),
    put: (collectionPath, object) => void store(`${collectionPath}/${object.metadata.name}`, object),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Why a real server would refuse the object, as a Status: 400 when it names another
 * apiVersion or kind than its path, 422 (reason Invalid) when it fails the schema; null when fine
 * or when there is no model for the resource.
 */
function invalidity(model: ModelClass | undefined, apiVersion: string, object: unknown): { code: number; message: string; status: unknown } | null {
  if (model === undefined) return null;
  const typed = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | undefined;
  if ((typed?.apiVersion !== undefined && typed.apiVersion !== apiVersion) || (typed?.kind !== undefined && typed.kind !== model.kind)) {
    const message = `the API version in the data (${String(typed.apiVersion)}) or the kind (${String(typed.kind)}) does not match the path (${apiVersion}, ${model.kind})`;
    return { code: 400, message, status: status(400, message, 'BadRequest').body };
  }
  try {
    new model(object as never).validate();
    return null;
  } catch (error) {
    const problems = (error as { errors?: AjvProblem[] }).errors;
    if (!Array.isArray(problems)) throw error;
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const name = typeof typed?.metadata?.name === 'string' ? typed.metadata.name : '';
    const causes = problems.map((problem) => cause(object, problem));
    const message = `${model.kind}${group === '' ? '' : `.${group}`} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`;
    const body = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: 'Invalid',
      details: { name, group, kind: model.kind, causes },
      code: 422,
    };
    return { code: 422, message, status: body };
  }
}

interface AjvProblem {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string };
  message?: string;
}

/** One ajv error as a Kubernetes StatusCause: `spec.rules[0].backendRefs[0].weight`, `Invalid value: -1: must be >= 0`. */
function cause(object: unknown, problem: AjvProblem): { reason: string; message: string; field: string } {
  const segments = problem.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (problem.keyword === 'required' && problem.params.missingProperty !== undefined) {
    return { reason: 'FieldValueRequired', message: 'Required value', field: fieldPath([...segments, problem.params.missingProperty]) };
  }
  let value: unknown = object;
  for (const segment of segments) value = (value as Record<string, unknown> | undefined)?.[segment];
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${problem.message ?? problem.keyword}`, field: fieldPath(segments) };
}

function fieldPath(segments: string[]): string {
  return segments.reduce((path, s) => (/^\d+$/.test(s) || /[./]/.test(s) ? `${path}[${s}]` : path === '' ? s : `${path}.${s}`), '');
}

function kindOf(model: ModelClass | undefined, plural: string): string {
  return model?.kind ?? plural;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function parseSelector(text: string | null): Record<string, string> {
  if (!text) return {};
  return Object.fromEntries(text.split(',').map((pair) => pair.split('=') as [string, string]));
}

function matches(object: KubeObject, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => object.metadata.labels?.[key] === value);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

function send(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(text);
}

function status(code: number, message: string, reason: string): { status: number; body: unknown } {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

function reasonOf(code: number): string {
  return (
    { 400: 'BadRequest', 404: 'NotFound', 409: 'Conflict', 422: 'Invalid', 429: 'TooManyRequests', 503: 'ServiceUnavailable', 504: 'Timeout' }[code] ??
    'InternalError'
  );
}
