import fs from 'node:fs';
import http from 'node:http';
import { CutoverError } from '../errors.js';
import type { Controller } from '../controller/controller.js';
import { STRATEGY_NAMES, type StrategyName } from '../model/rollout.js';
import { HOOK_POINTS, type HookPoint } from '../model/spec.js';
import { hasHooksDue } from '../hooks/hook-point.js';
import type { Store } from '../store/store.js';
import { API_PREFIX, ERROR_STATUS, type ApiErrorBody } from './routes.js';
import { assertAppSpecs } from './validate-app-spec.js';
import { isStorageError, storageUnavailable } from '../store/storage-fault.js';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ApiServerOptions {
  controller: Controller;
  store: Store;
  socketPath: string;
  onShutdown: () => void;
}

type Handler = (request: { params: string[]; query: URLSearchParams; body: unknown }) => unknown;

/**
 * The admin API: JSON over a unix socket that only the daemon's user can open (mode 0600).
 * Errors become `{code, message, hint}` here and nowhere else.
 */
export async function startApiServer(options: ApiServerOptions): Promise<http.Server> {
  const { controller, store } = options;
  const routes: { method: string; pattern: RegExp; handler: Handler }[] = [
    { method: 'GET', pattern: /^\/health$/, handler: () => ({ ok: true, pid: process.pid }) },
    { method: 'GET', pattern: /^\/status$/, handler: ({ query }) => controller.status(query.get('app') ?? undefined) },
    {
      method: 'POST',
      pattern: /^\/deploy$/,
      handler: ({ body }) => {
        const { apps, strategy, skipHooks } = body as { apps?: unknown; strategy?: unknown; skipHooks?: unknown };
        if (strategy !== undefined && !STRATEGY_NAMES.includes(strategy as StrategyName)) {
          throw new CutoverError('BAD_REQUEST', `"strategy" must be one of ${STRATEGY_NAMES.join(', ')}, got ${JSON.stringify(strategy)}`);
        }
        if (skipHooks !== undefined && (!Array.isArray(skipHooks) || !skipHooks.every((point) => HOOK_POINTS.includes(point as HookPoint)))) {
          throw new CutoverError('BAD_REQUEST', `"skipHooks" must be a list of ${HOOK_POINTS.join(', ')}, got ${JSON.stringify(skipHooks)}`);
        }
        return { results: controller.deploy(assertAppSpecs(apps), { strategy: strategy as StrategyName | undefined, skipHooks: skipHooks as HookPoint[] | undefined }) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/apps\/([a-z][a-z0-9-]*)\/promote$/,
      handler: async ({ params, body }) => ({ rollout: await controller.promote(params[0]!, { full: (body as { full?: unknown }).full === true }) }),
    },
    { method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/pause$/, handler: ({ params }) => ({ rollout: controller.pause(params[0]!) }) },
    { method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/resume$/, handler: ({ params }) => ({ rollout: controller.resume(params[0]!) }) },
    { method: 'POST', pattern: /^\/apps\/([a-z][a-z0-9-]*)\/abort$/, handler: async ({ params }) => ({ rollout: await controller.abort(params[0]!) }) },
    {
      method: 'GET',
      pattern: /^\/rollouts\/(\d+)$/,
      handler: ({ params }) => {
        const rollout = store.getRollout(Number(params[0])) ?? notFound('ROLLOUT_NOT_FOUND', `rollout ${params[0]} does not exist`);
        const hooks = store.listHookRuns({ rolloutId: rollout.id });
        return { ...rollout, hookRuns: hooks, hasHooksDue: hasHooksDue(rollout, hooks) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/events$/,
      handler: ({ query }) => ({
        events: store.listEvents({
          app: query.get('app') ?? undefined,
          rolloutId: query.has('rollout') ? Number(query.get('rollout')) : undefined,
          afterId: Number(query.get('after') ?? 0),
          limit: Math.min(1000, Number(query.get('limit') ?? 500)),
        }),
      }),
    },
    {
      method: 'POST',
      pattern: /^\/apps\/([a-z][a-z0-9-]*)\/rollback$/,
      handler: ({ params, body }) => {
        const to = (body as { to?: unknown }).to;
        if (to !== undefined && (typeof to !== 'number' || !Number.isInteger(to) || to < 1)) throw new CutoverError('BAD_REQUEST', `"to" must be a revision number, got ${JSON.stringify(to)}`);
        return { rollout: controller.rollback(params[0]!, to as number | undefined) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/apps\/([a-z][a-z0-9-]*)\/history$/,
      handler: ({ params }) => {
        const app = params[0]!;
        if (!store.listApps().some((a) => a.name === app)) notFound('APP_NOT_FOUND', `no app named "${app}"`);
        return {
          app,
          stableRevision: store.stableRevision(app),
          revisions: store.listRevisions(app).map((r) => ({ number: r.number, createdAt: r.createdAt, specHash: r.specHash, env: r.spec.run.env, command: r.spec.run.command })),
          rollouts: store.listRollouts(app, 50),
        };
      },
    },
    {
      method: 'POST',
      pattern: /^\/shutdown$/,
      handler: () => {
        setImmediate(options.onShutdown);
        return { ok: true };
      },
    },
  ];

  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://cutover');
        if (!url.pathname.startsWith(API_PREFIX)) notFound('NOT_FOUND', `no route ${url.pathname}`);
        const subPath = url.pathname.slice(API_PREFIX.length);
        const route = routes.find((r) => r.method === req.method && r.pattern.test(subPath));
        if (!route) notFound('NOT_FOUND', `no route ${req.method} ${url.pathname}`);
        const params = route!.pattern.exec(subPath)!.slice(1);
        const body = req.method === 'POST' ? await readJson(req) : {};
        send(res, 200, await route!.handler({ params, query: url.searchParams, body }));
      } catch (caught) {
        const error = isStorageError(caught) ? storageUnavailable(caught) : caught;
        if (error instanceof CutoverError) {
          const body: ApiErrorBody = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
          send(res, ERROR_STATUS[error.code] ?? 500, body);
        } else {
          send(res, 500, { code: 'INTERNAL', message: (error as Error).message ?? String(error), hint: 'This is a bug in cutover; please report it.' });
        }
      }
    })();
  });

  fs.rmSync(options.socketPath, { force: true });
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.socketPath, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  fs.chmodSync(options.socketPath, 0o600);
  return server;
}

function notFound(code: string, message: string): never {
  throw new CutoverError(code, message);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new CutoverError('BAD_REQUEST', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new CutoverError('BAD_REQUEST', 'request body is not valid JSON');
  }
}
