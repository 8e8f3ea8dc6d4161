import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

export interface LoadOptions {
  /** e.g. http://127.0.0.1:8080 */
  origin: string;
  /**
   * The Host header of every request, and the TLS server name (SNI) for an https origin: a
   * proxy's shared listener routes by them. The server's certificate is then not checked: the
   * load targets a daemon of its own on loopback, and the name must only pick the certificate.
   */
  host?: string;
  /** Concurrent keep-alive clients, each one connection sending one request after another. */
  clients: number;
  /** Share of requests sent as POST with a body (0..1). */
  postShare?: number;
  path?: string;
  /** Pause between a client's requests; spreads the load and leaves idle gaps on connections. */
  pauseMs?: number | (() => number);
  /** Hard limit, so a load never runs away. */
  maxDurationMs?: number;
  /**
   * What `stop()` does when the hard limit stopped the load before it was called: 'throw' (the
   * default: a test whose load ran out must not pass with "0 failed" over a phase that had no
   * load) or 'report' (set `stoppedByTimeLimit` and return the figures).
   */
  onTimeLimit?: 'throw' | 'report';
  /** Requests each client sends in turn (client n starting at the n-th); `postShare` and `path` are then unused. */
  requests?: readonly LoadRequest[];
  /** Which answers count as failures; default: any status but 2xx. */
  isFailedStatus?: (status: number) => boolean;
  /** How many failures are kept with their details (all are counted); default 20. */
  maxFailuresKept?: number;
}

export interface LoadRequest {
  method: string;
  path: string;
  body: string | null;
  headers: Record<string, string>;
}

export interface LoadFailure {
  method: string;
  path: string;
  status: number | null;
  error: string | null;
}

export interface LoadReport {
  requests: number;
  failed: number;
  /** 5xx the app answered on purpose (`x-demo-injected-error`), counted apart from failures. */
  injectedErrors: number;
  failures: LoadFailure[];
  /** Requests answered per revision, from the x-cutover-revision header the sample apps send. */
  byRevision: Record<string, number>;
  latenciesMs: number[];
  /** ids of the POSTs that were answered 2xx; the apps record what they received, to find duplicates. */
  postIds: string[];
  /** True once the hard limit (`maxDurationMs`) stopped the load: whatever ran after it ran without load. */
  stoppedByTimeLimit: boolean;
}

/** Thrown by `stop()` when the hard limit had stopped the load (unless `onTimeLimit: 'report'`). */
export class LoadTimeLimitError extends Error {
  constructor(
    readonly limitMs: number,
    readonly report: LoadReport,
  ) {
    super(`the load stopped at its time limit (${limitMs} ms) before it was stopped: ${report.requests} requests, ${report.failed} failed, then none`);
    this.name = 'LoadTimeLimitError';
  }
}

/**
 * A bounded load of real keep-alive clients. Every request that does not come back 2xx is a
 * failure: the number cutover promises to keep at zero during a deploy. Errors an app answers
 * on purpose (the demo's ERROR_RATE, marked by a header) are the app's, counted apart.
 */
export class LoadClient {
  private readonly pool: Pool;
  private isRunning = false;
  private loops: Promise<void>[] = [];
  private readonly report: LoadReport = {
    requests: 0,
    failed: 0,
    injectedErrors: 0,
    failures: [],
    byRevision: {},
    latenciesMs: [],
    postIds: [],
    stoppedByTimeLimit: false,
  };
  private hardStop: NodeJS.Timeout | null = null;

  constructor(private readonly options: LoadOptions) {
    // Idle upstream sockets are dropped after 4 s, before a Node server's default 5 s.
    const connect = options.host === undefined ? undefined : { servername: options.host, rejectUnauthorized: false };
    this.pool = new Pool(options.origin, { connections: options.clients, keepAliveTimeout: 4_000, pipelining: 1, ...(connect ? { connect } : {}) });
  }

  start(): void {
    this.isRunning = true;
    this.loops = Array.from({ length: this.options.clients }, (_, n) => this.loop(n));
    this.hardStop = setTimeout(() => {
      this.isRunning = false;
      this.report.stoppedByTimeLimit = true;
    }, this.limitMs());
    this.hardStop.unref();
  }

  /** A copy of the figures so far, for progress displays. */
  snapshot(): LoadReport {
    return { ...this.report, byRevision: { ...this.report.byRevision } };
  }

  async stop(): Promise<LoadReport> {
    this.isRunning = false;
    if (this.hardStop) clearTimeout(this.hardStop);
    await Promise.all(this.loops);
    if (!this.pool.closed) await this.pool.close();
    if (this.report.stoppedByTimeLimit && (this.options.onTimeLimit ?? 'throw') === 'throw') throw new LoadTimeLimitError(this.limitMs(), this.report);
    return this.report;
  }

  private limitMs(): number {
    return this.options.maxDurationMs ?? 10 * 60_000;
  }

  private async loop(client: number): Promise<void> {
    const postShare = this.options.postShare ?? 0;
    let n = 0;
    const listed = this.options.requests ?? [];
    while (this.isRunning) {
      if (listed.length > 0) await this.send(listed[(client + n++) % listed.length]!, null);
      else {
        const isPost = postShare > 0 && (n++ * postShare) % 1 >= 1 - postShare - 1e-9;
        await this.once(isPost, client);
      }
      const { pauseMs } = this.options;
      const pause = typeof pauseMs === 'function' ? pauseMs() : (pauseMs ?? 0);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The default load: GETs, and a share of POSTs with an id the sample apps record. */
  private async once(isPost: boolean, client: number): Promise<void> {
    const id = isPost ? randomUUID() : '';
    await this.send(
      {
        method: isPost ? 'POST' : 'GET',
        path: this.options.path ?? '/',
        headers: isPost ? { 'content-type': 'application/json', 'x-request-id': id } : {},
        body: isPost ? JSON.stringify({ id, client, padding: 'x'.repeat(512) }) : null,
      },
      isPost ? id : null,
    );
  }

  private async send(request: LoadRequest, postId: string | null): Promise<void> {
    const started = performance.now();
    const { method, path } = request;
    try {
      const { host } = this.options;
      const headers = host === undefined ? request.headers : { ...request.headers, host };
      const response = await this.pool.request({ path, method, headers, body: request.body });
      await response.body.text();
      this.report.requests += 1;
      this.report.latenciesMs.push(performance.now() - started);
      const revision = response.headers['x-cutover-revision'];
      if (typeof revision === 'string') this.report.byRevision[revision] = (this.report.byRevision[revision] ?? 0) + 1;
      const isFailed = this.options.isFailedStatus?.(response.statusCode) ?? (response.statusCode < 200 || response.statusCode >= 300);
      if (!isFailed) {
        if (postId !== null) this.report.postIds.push(postId);
      } else if (response.headers['x-demo-injected-error'] === '1') this.report.injectedErrors += 1;
      else this.fail({ method, path, status: response.statusCode, error: null });
    } catch (error) {
      this.report.requests += 1;
      this.fail({ method, path, status: null, error: (error as Error).message });
    }
  }

  private fail(failure: LoadFailure): void {
    this.report.failed += 1;
    if (this.report.failures.length < (this.options.maxFailuresKept ?? 20)) this.report.failures.push(failure);
  }
}

/** The p-th percentile (0..100) of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
