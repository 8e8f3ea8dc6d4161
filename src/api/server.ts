import fs from 'node:fs';
import { maskedOverrides } from '../model/overrides.js';
import http from 'node:http';
import { appNotFound, CutoverError } from '../errors.js';
import { ERROR_CATALOG, errorCodeInfo, type ErrorCode } from '../error-catalog.js';
import type { Controller } from '../controller/controller.js';
import { withFrontDoor } from '../controller/status.js';
import { isTerminalPhase, STRATEGY_NAMES, type StrategyName } from '../model/rollout.js';
import { createUiServer } from './dashboard-server.js';
import { HOOK_POINTS, type HookPoint } from '../model/app-spec.js';
import { hasHooksDue } from '../hooks/hook-point.js';
import type { Store } from '../store/store.js';
import type { RolloutRecord } from '../model/records.js';
import type { ClusterCommand } from '../fleet/cluster/kubernetes-command-queue.js';
import type { AppSpec, HostPort } from '../model/app-spec.js';
import { AdminGuard } from './admin-guard.js';
import { API_PREFIX, API_ROUTES, type ApiErrorBody, type ApiRouteName } from './routes.js';
import { assertAppSpecs } from './validate-app-spec.js';
import { isStorageError, storageUnavailable } from '../store/storage-fault.js';
import { REPORT_AFTER_MS } from '../protocol/deploy-report.js';
import { MAX_REPLICAS, MIN_REPLICAS } from '../config/defaults.js';
import { acceptsEventStream, streamEvents, streamStartId } from './event-stream.js';
import { createLimitedServer } from './listener-limits.js';
import { queryInteger, readJsonObject } from './request-input.js';
import { bestEffort, cachedSecretMasker, maskedSpec } from './secret-masking.js';
import { mapStrings, maskedEnv } from '../model/secrets.js';

export interface ApiServerOptions {
  controller: Controller;
  store: Store;
  socketPath: string;
  onShutdown: () => void;
  /** Also listen on TCP (only when asked for: `cutover up --admin HOST:PORT`), behind an AdminGuard. */
  tcp?: { listen: HostPort; token: string; hosts?: readonly string[] };
  /** The dashboard (`cutover up --ui HOST:PORT`): the page, its login, and this API behind the token or its session cookie. */
  ui?: { listen: HostPort; token: string };
  /** What the daemon could not do but runs without (a metrics port it cannot bind): `/health` lists them, `up` prints them. */
  warnings?: () => readonly string[];
}

/** The admin API's listeners: the unix socket, and TCP when asked for. */
export interface ApiServers {
  socket: http.Server;
  tcp: http.Server | undefined;
  ui: http.Server | undefined;
  close(): void;
}

type Handler = (request: { params: string[]; query: URLSearchParams; body: Record<string, unknown> }) => unknown;

/**
 * The admin API: JSON over a unix socket that only the daemon's user can open (mode 0600),
 * and on TCP when asked for, behind a bearer token, a Host allow-list and an Origin check.
 * Errors become `{code, message, hint}` here and nowhere else.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServers> {
  const { controller, store } = options;
  // A cluster app another cutover drives: the command goes to that cutover, through the cluster.
  const drive = (app: string, command: ClusterCommand, here: () => RolloutRecord | Promise<RolloutRecord>): Promise<RolloutRecord> =>
    controller.isDrivenElsewhere(app) ? controller.forward(app, command) : Promise.resolve().then(here);
  const handlers: Record<ApiRouteName, Handler> = {
    health: () => {
      const warnings = options.warnings?.() ?? [];
      return { ok: true, pid: process.pid, ...(warnings.length ? { warnings } : {}) };
    },
    status: ({ query }) => withFrontDoor(controller.status(query.get('app') ?? undefined), controller.history.currentUnknownHost()),
    deploy: async ({ body }) => {
      const { apps, strategy, skipHooks, restart, from, overrides } = body as {
        overrides?: unknown;
        apps?: unknown;
        strategy?: unknown;
        skipHooks?: unknown;
        restart?: unknown;
        from?: unknown;
      };
      if (restart !== undefined && typeof restart !== 'boolean')
        throw new CutoverError('BAD_REQUEST', `"restart" must be true or false, got ${JSON.stringify(restart)}`);
      if (from !== undefined && (typeof from !== 'string' || !(from.startsWith('/') || from.startsWith('git:'))))
        throw new CutoverError('BAD_REQUEST', `"from" must be an absolute path or git:REF, got ${JSON.stringify(from)}`);
      if (strategy !== undefined && !STRATEGY_NAMES.includes(strategy as StrategyName)) {
        throw new CutoverError('BAD_REQUEST', `"strategy" must be one of ${STRATEGY_NAMES.join(', ')}, got ${JSON.stringify(strategy)}`);
      }
      if (skipHooks !== undefined && (!Array.isArray(skipHooks) || !skipHooks.every((point) => HOOK_POINTS.includes(point as HookPoint)))) {
        throw new CutoverError('BAD_REQUEST', `"skipHooks" must be a list of ${HOOK_POINTS.join(', ')}, got ${JSON.stringify(skipHooks)}`);
      }
      // The `--set` overrides the specs were made with, recorded in their revisions (the specs already hold their values).
      if (
        overrides !== undefined &&
        (!Array.isArray(overrides) || overrides.length > 100 || !overrides.every((o) => typeof o === 'string' && o.length <= 4096))
      )
        throw new CutoverError('BAD_REQUEST', '"overrides" must be a list of at most 100 KEY=VALUE strings');
      const specs = assertAppSpecs(apps);
      // Cluster apps first take their state from the cluster: another machine may have driven them.
      await controller.takeClusterStates(specs);
      // Container apps' images become IDs (pulled when missing) before their revisions are made.
      const resolved = await controller.resolveImages(specs);
      const options = {
        strategy: strategy as StrategyName | undefined,
        skipHooks: skipHooks as HookPoint[] | undefined,
        restart: restart === true,
        from: from as string | undefined,
        overrides: overrides as string[] | undefined,
      };
      // A restart takes no release: it runs the stable revision's own again.
      return { results: options.restart ? controller.deploy(resolved, options) : await controller.ship(resolved, options) };
    },
    promote: async ({ params, body }) => {
      const isFull = body.full === true;
      // `wait: false` (`promote --no-wait`): answered once recorded; a forwarded promote waits as its driver decides.
      const wait = body.wait !== false;
      return { rollout: await drive(params[0]!, { verb: 'promote', isFull }, () => controller.promote(params[0]!, { full: isFull, wait })) };
    },
    pause: async ({ params }) => ({ rollout: await drive(params[0]!, { verb: 'pause' }, () => controller.pause(params[0]!)) }),
    resume: async ({ params }) => ({ rollout: await drive(params[0]!, { verb: 'resume' }, () => controller.resume(params[0]!)) }),
    abort: async ({ params }) => ({ rollout: await drive(params[0]!, { verb: 'abort' }, () => controller.abort(params[0]!)) }),
    rollout: ({ params }) => {
      const rollout = store.getRollout(Number(params[0])) ?? notFound('ROLLOUT_NOT_FOUND', `rollout ${params[0]} does not exist`);
      const hooks = store.listHookRuns({ rolloutId: rollout.id });
      return {
        ...rollout,
        hookRuns: hooks,
        hasHooksDue: hasHooksDue(rollout, hooks),
        analysisRuns: store.listAnalysisRuns({ rolloutId: rollout.id }),
        measurements: store.listAnalysisMeasurements({ rolloutId: rollout.id }),
      };
    },
    events: ({ query }) => ({
      events: store.listEvents({
        app: query.get('app') ?? undefined,
        rolloutId: queryInteger(query, 'rollout', { min: 1 }),
        afterId: queryInteger(query, 'after', { fallback: 0, min: 0 }),
        limit: queryInteger(query, 'limit', { fallback: 500, min: 1, max: 1000 }),
      }),
    }),
    rollback: async ({ params, body }) => {
      const to = body.to;
      if (to !== undefined && (typeof to !== 'number' || !Number.isInteger(to) || to < 1))
        throw new CutoverError('BAD_REQUEST', `"to" must be a revision number, got ${JSON.stringify(to)}`);
      const command = { verb: 'rollback' as const, ...(to === undefined ? {} : { toRevision: to as number }) };
      return { rollout: await drive(params[0]!, command, () => controller.rollback(params[0]!, to as number | undefined)) };
    },
    scale: ({ params, body }) => {
      const replicas = (body as { replicas?: unknown }).replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < MIN_REPLICAS || replicas > MAX_REPLICAS)
        throw new CutoverError('BAD_REQUEST', `"replicas" must be a whole number from ${MIN_REPLICAS} to ${MAX_REPLICAS}, got ${JSON.stringify(replicas)}`);
      return controller.scale(params[0]!, replicas);
    },
    remove: ({ params }) => controller.remove(params[0]!),
    history: ({ params }) => {
      const app = params[0]!;
      knownOrRemovedApp(app);
      return {
        app,
        stableRevision: store.stableRevision(app),
        revisions: store.listRevisions(app).map((r) => ({
          number: r.number,
          createdAt: r.createdAt,
          specHash: r.specHash,
          env: maskedEnv(r.spec.run),
          command: r.spec.run.command,
          ...imageOf(r.spec),
          release: r.release ? { hash: r.release.hash, source: r.release.source, ...(r.release.commit ? { commit: r.release.commit } : {}) } : null,
          overrides: maskedOverrides(r.overrides ?? [], r.spec.run),
        })),
        rollouts: store.listRollouts(app, 50),
        replicas: store.replicasOf(app),
        scales: store.listEvents({ app, kinds: ['app-scaled'], limit: 50 }),
      };
    },
    report: ({ params, query }) => {
      const app = params[0]!;
      knownOrRemovedApp(app);
      const wanted = queryInteger(query, 'rollout', { min: 1 });
      const rollout = wanted === undefined ? store.listRollouts(app, 50).find((r) => r.report !== null) : store.getRollout(wanted);
      if (!rollout || rollout.app !== app)
        notFound(
          'ROLLOUT_NOT_FOUND',
          wanted === undefined ? `app "${app}" has no finished rollout with a report yet` : `app "${app}" has no rollout ${wanted}`,
        );
      if (rollout!.report === null)
        notFound(
          'REPORT_NOT_READY',
          `rollout ${rollout!.id} of "${app}" has no report yet (${rollout!.phase}); it is written ${REPORT_AFTER_MS / 1000}s after the rollout ends`,
        );
      return { report: rollout!.report };
    },
    apps: () => ({
      apps: controller.status().apps.map((a) => ({
        name: a.name,
        stableRevision: a.revision,
        state: a.rollout && !isTerminalPhase(a.rollout.phase) ? a.rollout.phase : a.revision === null ? 'new' : 'stable',
        rollout: a.rollout && {
          id: a.rollout.id,
          phase: a.rollout.phase,
          strategy: a.rollout.strategy,
          toRevision: a.rollout.toRevision,
          gate: a.rollout.gate,
        },
        traffic: a.traffic,
      })),
    }),
    app: ({ params }) => controller.status(knownApp(params[0]!)).apps[0],
    revisions: ({ params }) => ({
      revisions: store
        .listRevisions(knownApp(params[0]!))
        .map((r) => ({ number: r.number, createdAt: r.createdAt, specHash: r.specHash, spec: maskedSpec(r.spec) })),
    }),
    releases: ({ params }) => controller.releases.list(knownOrRemovedApp(params[0]!)),
    rollouts: ({ params, query }) => ({ rollouts: store.listRollouts(knownApp(params[0]!), queryInteger(query, 'limit', { fallback: 50, min: 1, max: 500 })) }),
    instances: ({ params, query }) => ({ instances: store.listInstances(knownApp(params[0]!), { includeStopped: query.get('stopped') === '1' }) }),
    analysis: ({ params }) => {
      const rollout = store.getRollout(Number(params[0])) ?? notFound('ROLLOUT_NOT_FOUND', `rollout ${params[0]} does not exist`);
      return {
        rolloutId: rollout.id,
        runs: store.listAnalysisRuns({ rolloutId: rollout.id }),
        measurements: store.listAnalysisMeasurements({ rolloutId: rollout.id }),
      };
    },
    live: ({ query }) => controller.liveMetrics(query.get('app') ?? undefined),
    shutdown: () => {
      setImmediate(options.onShutdown);
      return { ok: true };
    },
  };
  const routes = API_ROUTES.map((route) => ({ ...route, handler: handlers[route.name] }));
  const knownApp = (app: string): string => {
    const names = store.listApps().map((a) => a.name);
    if (names.includes(app)) return app;
    throw appNotFound(app, names);
  };
  // A removed app (`cutover remove`) keeps its revisions: its history and reports still answer.
  const knownOrRemovedApp = (app: string): string => (store.listRevisions(app).length > 0 ? app : knownApp(app));
  const streams = new Set<() => void>();

  // Built once per change of the revisions, not per answer: an answer's cost must not grow with every app's revisions.
  const secretMasker = cachedSecretMasker(store);
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://cutover');
      if (!url.pathname.startsWith(API_PREFIX)) notFound('NOT_FOUND', `no route ${url.pathname}`);
      const subPath = url.pathname.slice(API_PREFIX.length);
      const route = routes.find((r) => r.method === req.method && r.pattern.test(subPath));
      if (!route) notFound('NOT_FOUND', `no route ${req.method} ${url.pathname}`);
      const params = route!.pattern.exec(subPath)!.slice(1);
      if (route!.name === 'events' && acceptsEventStream(req)) {
        const end = streamEvents(req, res, {
          store,
          metrics: (app) => controller.liveMetrics(app),
          app: url.searchParams.get('app') ?? undefined,
          afterId: streamStartId(req, url.searchParams),
          maskEvent: (event) => mapStrings(event, secretMasker()),
        });
        streams.add(end);
        res.on('close', () => streams.delete(end));
        return;
      }
      const body = req.method === 'POST' ? await readJsonObject(req) : {};
      // Secret values never leave in an answer, whatever text they hid in.
      send(res, 200, mapStrings(await route!.handler({ params, query: url.searchParams, body }), secretMasker()));
    } catch (caught) {
      const error = isStorageError(caught) ? storageUnavailable(caught) : caught;
      if (error instanceof CutoverError) {
        const body: ApiErrorBody = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
        // The rest of a refused body is not read: the connection ends with the answer.
        if (!req.complete) res.setHeader('connection', 'close');
        send(res, errorCodeInfo(error.code).http, mapStrings(body, bestEffort(secretMasker)));
      } else {
        send(
          res,
          ERROR_CATALOG.INTERNAL.http,
          mapStrings(
            { code: 'INTERNAL', message: (error as Error).message ?? String(error), hint: 'This is a bug in cutover; please report it.' },
            bestEffort(secretMasker),
          ),
        );
      }
    }
  };

  const server = http.createServer((req, res) => void handle(req, res));
  fs.rmSync(options.socketPath, { force: true });
  const previousUmask = process.umask(0o177);
  try {
    await listen(server, { path: options.socketPath });
  } finally {
    process.umask(previousUmask);
  }
  fs.chmodSync(options.socketPath, 0o600);

  let tcp: http.Server | undefined;
  if (options.tcp !== undefined) {
    const guard = new AdminGuard(options.tcp.token, options.tcp.listen, options.tcp.hosts);
    tcp = createLimitedServer((req, res) => {
      const refusal = guard.check(req);
      if (refusal !== undefined) {
        // Nothing of the request is read or echoed; the connection is closed after the answer.
        res.setHeader('connection', 'close');
        if (refusal.status === 401) res.setHeader('www-authenticate', 'Bearer realm="cutover"');
        send(res, refusal.status, { code: refusal.code, message: refusal.message, ...(refusal.hint ? { hint: refusal.hint } : {}) });
        return;
      }
      void handle(req, res);
    });
    try {
      await listen(tcp, { host: options.tcp.listen.host, port: options.tcp.listen.port });
    } catch (error) {
      server.close();
      throw new CutoverError(
        'ADMIN_LISTEN_FAILED',
        `the admin API cannot listen on ${options.tcp.listen.host}:${options.tcp.listen.port}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  let ui: http.Server | undefined;
  if (options.ui !== undefined) {
    ui = createUiServer({ listen: options.ui.listen, token: options.ui.token, handleApi: (req, res) => void handle(req, res) });
    try {
      await listen(ui, { host: options.ui.listen.host, port: options.ui.listen.port });
    } catch (error) {
      server.close();
      tcp?.close();
      throw new CutoverError(
        'UI_LISTEN_FAILED',
        `the dashboard cannot listen on ${options.ui.listen.host}:${options.ui.listen.port}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  return {
    socket: server,
    tcp,
    ui,
    close: () => {
      for (const end of streams) end();
      server.close();
      for (const listener of [tcp, ui]) {
        listener?.close();
        listener?.closeAllConnections();
      }
    },
  };
}

function listen(server: http.Server, options: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function notFound(code: ErrorCode, message: string): never {
  throw new CutoverError(code, message);
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A container revision's image in `history`: the tag as written and the ID it runs. */
function imageOf(spec: AppSpec): { image?: { tag: string; id: string; engine: string } } {
  const runtime = spec.runtime;
  if (runtime?.kind !== 'container' || !runtime.resolved) return {};
  return { image: { tag: runtime.image, id: runtime.resolved.imageId, engine: runtime.resolved.engine } };
}
