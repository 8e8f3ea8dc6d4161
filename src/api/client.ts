import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CutoverError, DaemonUnreachableError } from '../errors.js';
import { receivedErrorCode } from '../error-catalog.js';
import type { DeployResult } from '../protocol/deploy-result.js';
import type { ReleasesReport } from '../protocol/releases.js';
import type { ScaleResult } from '../protocol/scale-result.js';
import type { RemoveResult } from '../protocol/remove-result.js';
import type { AppStatus, RolloutStatus, StatusReport } from '../protocol/status.js';
import type { LiveMetrics } from '../protocol/live-metrics.js';
import type { RolloutPhase, StrategyName } from '../model/rollout.js';
import type { AppSpec, HookPoint } from '../model/app-spec.js';
import type {
  AnalysisMeasurementRecord,
  AnalysisRunRecord,
  EventRecord,
  HookRunRecord,
  InstanceRecord,
  RevisionRecord,
  RolloutRecord,
  TrafficShare,
} from '../model/records.js';
import type { DeployReport } from '../protocol/deploy-report.js';
import { API_PREFIX, type ApiErrorBody } from './routes.js';

/** A rollout with its hook runs; `hasHooksDue` while hooks still run or are to run (onSuccess, onFailure after it ended). */
export interface RolloutReport extends RolloutRecord {
  hookRuns: HookRunRecord[];
  hasHooksDue: boolean;
  analysisRuns: AnalysisRunRecord[];
  measurements: AnalysisMeasurementRecord[];
}

export interface HistoryReport {
  app: string;
  stableRevision: number | null;
  revisions: (Pick<RevisionRecord, 'number' | 'createdAt' | 'specHash'> & {
    env: Record<string, string>;
    command: string[];
    /** Container apps: the image as written (`tag`) and the image ID the revision runs (`id`, with its engine). */
    image?: { tag: string; id: string; engine: string };
    /** The files it runs (`commit` when taken from git); null without `release:` (absent from older daemons). */
    release?: { hash: string; source: string; commit?: string } | null;
    /** The `--set` overrides it was deployed with, as typed (a secret's value masked); empty: none. */
    overrides: string[];
  })[];
  rollouts: RolloutRecord[];
  /** How many instances the app runs: the app's count, not a revision's (null in a state from before counts were kept). */
  replicas?: number | null;
  /** Changes of that count (`cutover scale`, a deploy of another count), oldest first; no revision was made for them. */
  scales?: EventRecord[];
}

/** One app in `GET /v1/apps`: `state` is the active rollout's phase, else `stable` (or `new` before its first revision). */
export interface AppSummary {
  name: string;
  stableRevision: number | null;
  state: 'new' | 'stable' | RolloutPhase;
  rollout: Pick<RolloutStatus, 'id' | 'phase' | 'strategy' | 'toRevision' | 'gate'> | null;
  traffic: TrafficShare[];
}

/** What `watch` hands over: a stored state change, or the metrics tick of every second. */
export type StreamMessage = { type: 'change'; event: EventRecord } | { type: 'metrics'; metrics: LiveMetrics };

/** A running `watch`: `closed` settles when the stream ends (rejects when it broke). */
export interface EventWatch {
  close(): void;
  closed: Promise<void>;
}

/** Where the admin API is: the unix socket, or a TCP URL with its bearer token. */
/** A removal waits for the app's instances to drain and stop: longer than any other call. */
const REMOVE_TIMEOUT_MS = 10 * 60_000;

/**
 * A connection made by the caller: each HTTP exchange asks for a new byte stream (`cutover
 * --host` opens one over SSH to the daemon's socket); `describe` names the daemon in messages.
 */
export interface StreamTarget {
  connect: () => Duplex;
  describe: string;
}

export type CutoverClientOptions = ({ socketPath: string } | { url: string; token: string } | StreamTarget) & { timeoutMs?: number };

/**
 * Typed client of the admin API.
 *
 * @example
 * const client = new CutoverClient({ socketPath: '.cutover/cutover.sock' });
 * const { apps } = await client.status();
 * // or over TCP (cutover up --admin 127.0.0.1:7071):
 * new CutoverClient({ url: 'http://127.0.0.1:7071', token: fs.readFileSync('.cutover/admin-token', 'utf8').trim() });
 */
export class CutoverClient {
  constructor(private readonly options: CutoverClientOptions) {}

  /** `warnings`: what the daemon runs without (a metrics port it could not bind), absent when there is none. */
  health(): Promise<{ ok: boolean; pid: number; warnings?: string[] }> {
    return this.call('GET', '/health');
  }

  status(app?: string): Promise<StatusReport> {
    return this.call('GET', `/status${app ? `?app=${encodeURIComponent(app)}` : ''}`);
  }

  /** Deploys the specs; `strategy` overrides each spec's strategy for this deploy only; `skipHooks` skips those hook points; `restart` rolls the stable revisions onto new processes instead; `from` takes the release from a path or git:REF. */
  deploy(
    apps: AppSpec[],
    options: { strategy?: StrategyName; skipHooks?: HookPoint[]; restart?: boolean; from?: string; overrides?: string[] } = {},
  ): Promise<{ results: DeployResult[] }> {
    return this.call('POST', '/deploy', {
      apps,
      ...(options.overrides?.length ? { overrides: options.overrides } : {}),
      ...(options.from ? { from: options.from } : {}),
      ...(options.strategy ? { strategy: options.strategy } : {}),
      ...(options.skipHooks?.length ? { skipHooks: options.skipHooks } : {}),
      ...(options.restart ? { restart: true } : {}),
    });
  }

  /** `cutover releases`: an app's releases, newest first, with their use and the disk they take. */
  releases(app: string): Promise<ReleasesReport> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/releases`);
  }

  /** Passes the current step or gate; `full` skips all steps left. Resolves once applied (a blue-green switch included, when green is ready). */
  /** `wait: false` answers once the promote is recorded, before the passes it asks for ran. */
  promote(app: string, options: { full?: boolean; wait?: boolean } = {}): Promise<{ rollout: RolloutRecord }> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/promote`, { full: options.full === true, ...(options.wait === false ? { wait: false } : {}) });
  }

  pause(app: string): Promise<{ rollout: RolloutRecord }> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/pause`);
  }

  resume(app: string): Promise<{ rollout: RolloutRecord }> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/resume`);
  }

  /** Sends all traffic back to the stable revision; resolves once the proxy serves that. */
  abort(app: string): Promise<{ rollout: RolloutRecord }> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/abort`);
  }

  rollout(id: number): Promise<RolloutReport> {
    return this.call('GET', `/rollouts/${id}`);
  }

  events(query: { app?: string; rolloutId?: number; afterId?: number } = {}): Promise<{ events: EventRecord[] }> {
    const params = new URLSearchParams();
    if (query.app) params.set('app', query.app);
    if (query.rolloutId !== undefined) params.set('rollout', String(query.rolloutId));
    if (query.afterId !== undefined) params.set('after', String(query.afterId));
    return this.call('GET', `/events?${params.toString()}`);
  }

  rollback(app: string, to?: number): Promise<{ rollout: RolloutRecord }> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/rollback`, to === undefined ? {} : { to });
  }

  /** Runs `replicas` instances of the app's stable revision from now on, without a new revision (`cutover scale`). */
  scale(app: string, replicas: number): Promise<ScaleResult> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/scale`, { replicas });
  }

  /**
   * Removes the app (`cutover remove`): out of traffic, drained and stopped, gone from status;
   * resolves once its instances stopped. Its revisions, rollouts and reports stay.
   */
  remove(app: string): Promise<RemoveResult> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/remove`, {}, REMOVE_TIMEOUT_MS);
  }

  history(app: string): Promise<HistoryReport> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/history`);
  }

  /** The deploy report of a rollout (default: the app's latest one that has a report). */
  report(app: string, rolloutId?: number): Promise<{ report: DeployReport }> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/report${rolloutId === undefined ? '' : `?rollout=${rolloutId}`}`);
  }

  /** Every app with its stable revision and state. */
  apps(): Promise<{ apps: AppSummary[] }> {
    return this.call('GET', '/apps');
  }

  /** One app as `status` shows it: rollout, steps, gate, analysis, instances, traffic. */
  app(app: string): Promise<AppStatus> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}`);
  }

  revisions(app: string): Promise<{ revisions: Pick<RevisionRecord, 'number' | 'createdAt' | 'specHash' | 'spec'>[] }> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/revisions`);
  }

  /** The app's rollouts, newest first (reports included once written). */
  rollouts(app: string, limit = 50): Promise<{ rollouts: RolloutRecord[] }> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/rollouts?limit=${limit}`);
  }

  /** Live instances; with `includeStopped`, the ended ones kept in the state too. */
  instances(app: string, options: { includeStopped?: boolean } = {}): Promise<{ instances: InstanceRecord[] }> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/instances${options.includeStopped ? '?stopped=1' : ''}`);
  }

  /** A rollout's analysis runs and every measurement they took, each with its sentence. */
  analysis(rolloutId: number): Promise<{ rolloutId: number; runs: AnalysisRunRecord[]; measurements: AnalysisMeasurementRecord[] }> {
    return this.call('GET', `/rollouts/${rolloutId}/analysis`);
  }

  /** Per-revision requests per second, errors and p99 over the last seconds. */
  live(app?: string): Promise<LiveMetrics> {
    return this.call('GET', `/live${app ? `?app=${encodeURIComponent(app)}` : ''}`);
  }

  /**
   * Follows `GET /v1/events` as Server-Sent Events: every state change as it is stored, and a
   * metrics tick each second. `afterId` replays the stored changes after that event first.
   *
   * @example
   * const watch = client.watch((m) => m.type === 'change' && console.log(m.event.message), { app: 'web' });
   * // later: watch.close();
   */
  watch(onMessage: (message: StreamMessage) => void, query: { app?: string; afterId?: number } = {}): EventWatch {
    const params = new URLSearchParams();
    if (query.app) params.set('app', query.app);
    if (query.afterId !== undefined) params.set('after', String(query.afterId));
    const { options } = this;
    let request: http.ClientRequest | undefined;
    let isClosed = false;
    const closed = new Promise<void>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { accept: 'text/event-stream' };
      if ('token' in options) headers.authorization = `Bearer ${options.token}`;
      const target = requestTarget(options);
      request = http.request({ ...target, path: `${API_PREFIX}/events?${params.toString()}`, headers }, (response) => {
        if ((response.statusCode ?? 500) >= 400) {
          response.resume();
          reject(new CutoverError('EVENT_STREAM_REFUSED', `the daemon refused the event stream (HTTP ${response.statusCode})`));
          return;
        }
        const parser = new EventStreamParser((event, data) => {
          if (event === 'change') onMessage({ type: 'change', event: JSON.parse(data) as EventRecord });
          else if (event === 'metrics') onMessage({ type: 'metrics', metrics: JSON.parse(data) as LiveMetrics });
        });
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => parser.push(chunk));
        response.on('end', () => resolve());
        response.on('error', (error) => (isClosed ? resolve() : reject(error)));
      });
      request.on('error', (error) => (isClosed ? resolve() : reject(new DaemonUnreachableError(`the event stream broke: ${error.message}`, { cause: error }))));
      request.end();
    });
    return {
      close: () => {
        isClosed = true;
        request?.destroy();
      },
      closed,
    };
  }

  shutdown(): Promise<{ ok: boolean }> {
    return this.call('POST', '/shutdown');
  }

  private call<T>(method: string, path: string, body?: unknown, timeoutMs = this.options.timeoutMs ?? 30_000): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const { options } = this;
      const target = requestTarget(options);
      const headers: http.OutgoingHttpHeaders = payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {};
      if ('token' in options) headers.authorization = `Bearer ${options.token}`;
      const request = http.request(
        {
          ...target,
          path: `${API_PREFIX}${path}`,
          method,
          timeout: timeoutMs,
          headers,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new CutoverError('BAD_RESPONSE', `the daemon answered ${method} ${path} with something that is not JSON`));
              return;
            }
            if ((response.statusCode ?? 500) >= 400) {
              const error = parsed as ApiErrorBody;
              reject(new CutoverError(receivedErrorCode(error.code ?? 'INTERNAL'), error.message ?? 'unknown error', error.hint ? { hint: error.hint } : {}));
            } else resolve(parsed as T);
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs}ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          new DaemonUnreachableError(
            `cannot reach the cutover daemon at ${'socketPath' in options ? options.socketPath : 'url' in options ? options.url : options.describe} (${error.code ?? error.message})`,
            {
              hint: 'Start it with `cutover up` (or `cutover up --detach`), or pass the same --data-dir as the daemon.',
              cause: error,
            },
          ),
        );
      });
      if (payload) request.write(payload);
      request.end();
    });
  }
}

/** Splits a text/event-stream into (event, data) pairs; comments and `retry:` lines are skipped. */
export class EventStreamParser {
  private buffer = '';

  constructor(private readonly onEvent: (event: string, data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) this.onEvent(event, data.join('\n'));
    }
  }
}

/** Where a request goes: the unix socket, a TCP address, or a stream the caller makes. */
function requestTarget(options: CutoverClientOptions): http.RequestOptions {
  if ('socketPath' in options) return { socketPath: options.socketPath };
  if ('url' in options) return tcpTarget(options.url);
  return { createConnection: () => options.connect() as unknown as Socket };
}

function tcpTarget(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 80) };
}
