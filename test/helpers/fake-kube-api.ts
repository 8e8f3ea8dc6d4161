/**
 * A small in-memory Kubernetes API server on 127.0.0.1 for unit tests (layer (a) of
 * KUBERNETES-TESTING.md): create, get, list (with an equality labelSelector), merge-patch,
 * replace with a resourceVersion check (409 on a stale one) and delete, for any namespaced
 * resource path, plus fault injection. It does no validation, defaulting or controller work, so it
 * is never the only evidence that the provider works.
 *
 * @example
 * const api = await startFakeKubeApi();
 * api.failNext({ method: 'PATCH', pathIncludes: '/services/web', status: 409 });
 * await api.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Fault {
  method: string;
  pathIncludes: string;
  status: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

type KubeObject = { metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; [key: string]: unknown }; [key: string]: unknown };

export interface FakeKubeApi {
  url: string;
  /** Stored objects by their object path, e.g. `/apis/apps/v1/namespaces/shop/replicasets/web-1`. */
  objects: Map<string, KubeObject>;
  requests: RecordedRequest[];
  /** The next request that matches answers `status` instead (once). */
  failNext(fault: Fault): void;
  /** Stores an object as if someone else created it (a pod made by the ReplicaSet controller). */
  put(collectionPath: string, object: KubeObject): void;
  close(): Promise<void>;
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const objects = new Map<string, KubeObject>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let resourceVersion = 1;

  const store = (path: string, object: KubeObject): KubeObject => {
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++resourceVersion) } };
    objects.set(path, stored);
    return stored;
  };

  const server = createServer((request, response) => {
    void readJson(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const method = request.method ?? 'GET';
      requests.push({ method, path: url.pathname, contentType: request.headers['content-type'], body });
      const faultIndex = faults.findIndex((f) => f.method === method && url.pathname.includes(f.pathIncludes));
      if (faultIndex >= 0) {
        const [fault] = faults.splice(faultIndex, 1);
        return sendStatus(response, fault!.status, 'injected fault');
      }
      const isCollection = /\/namespaces\/[^/]+\/[^/]+$/.test(url.pathname);
      if (isCollection) {
        if (method === 'GET') {
          const selector = parseSelector(url.searchParams.get('labelSelector'));
          const items = [...objects.entries()]
            .filter(([path, object]) => path.startsWith(`${url.pathname}/`) && !path.slice(url.pathname.length + 1).includes('/') && matches(object, selector))
            .map(([, object]) => object);
          return send(response, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(resourceVersion) }, items });
        }
        if (method === 'POST') {
          const object = body as KubeObject;
          const path = `${url.pathname}/${object.metadata.name}`;
          if (objects.has(path)) return sendStatus(response, 409, `${object.metadata.name} already exists`, 'AlreadyExists');
          return send(response, 201, store(path, object));
        }
      } else {
        const existing = objects.get(url.pathname);
        if (existing === undefined) return sendStatus(response, 404, `${url.pathname} not found`, 'NotFound');
        if (method === 'GET') return send(response, 200, existing);
        if (method === 'DELETE') {
          objects.delete(url.pathname);
          return send(response, 200, existing);
        }
        if (method === 'PATCH') {
          // A resourceVersion in the patch is a precondition, as on a real server.
          const expected = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
          if (expected !== undefined && expected !== existing.metadata.resourceVersion) return sendStatus(response, 409, 'the object has been modified', 'Conflict');
          return send(response, 200, store(url.pathname, mergePatch(existing, body) as KubeObject));
        }
        if (method === 'PUT') {
          const replacement = body as KubeObject;
          if (replacement.metadata.resourceVersion !== undefined && replacement.metadata.resourceVersion !== existing.metadata.resourceVersion) {
            return sendStatus(response, 409, 'the object has been modified', 'Conflict');
          }
          return send(response, 200, store(url.pathname, replacement));
        }
      }
      sendStatus(response, 405, `${method} ${url.pathname} is not supported by the fake`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    failNext: (fault) => faults.push(fault),
    put: (collectionPath, object) => void store(`${collectionPath}/${object.metadata.name}`, object),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
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

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendStatus(response: ServerResponse, code: number, message: string, reason = 'InternalError'): void {
  send(response, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
}
