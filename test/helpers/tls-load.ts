/**
 * A closed-loop load over HTTPS for the front door's deploy tests (not a test file itself):
 * HTTP/2 streams on a few sessions and HTTP/1.1 requests on keep-alive TLS connections, GETs
 * and small POSTs, every answer checked. A failure is anything but a 2xx with the full body, or
 * a 500 the sample app marks as its own on purpose (`ERROR_RATE`, header `x-demo-injected-error`),
 * counted apart: what a deploy must not cause is told from what the app answers.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { Agent, request } from 'node:https';

export interface TlsLoadReport {
  h2Requests: number;
  h1Requests: number;
  /** HTTP/2 sessions opened after the first ones, each because the proxy closed one (GOAWAY). */
  h2Reconnects: number;
  /** HTTP/2 streams the server refused unprocessed (REFUSED_STREAM), which a client may send again. */
  h2Refused: number;
  failures: string[];
  /** 500s the sample app answered on purpose (its `ERROR_RATE`): not failures. */
  injectedErrors: number;
  /** Answers per revision (the sample app's x-cutover-revision header). */
  byRevision: Record<string, number>;
}

export class TlsLoad {
  private isRunning = false;
  private readonly report: TlsLoadReport = { h2Requests: 0, h1Requests: 0, h2Reconnects: 0, h2Refused: 0, failures: [], injectedErrors: 0, byRevision: {} };
  private readonly loops: Promise<void>[] = [];
  /** The current session of each slot first, then those replaced. */
  private readonly sessions: ClientHttp2Session[] = [];
  private readonly reopening: (Promise<ClientHttp2Session> | undefined)[] = [];
  private readonly agent: Agent;

  constructor(
    private readonly port: number,
    private readonly host: string,
    private readonly ca: string,
    /** `withPosts`: one request in three is a POST; false: GETs only (what a crash must not fail are idempotent requests). */
    private readonly shape = { h2Sessions: 2, streamsPerSession: 6, h1Clients: 6, withPosts: true },
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: shape.h1Clients, ca, servername: host });
  }

  async start(): Promise<void> {
    this.isRunning = true;
    for (let s = 0; s < this.shape.h2Sessions; s++) {
      this.sessions.push(await this.openSession());
      for (let n = 0; n < this.shape.streamsPerSession; n++) this.loops.push(this.h2Loop(s, `${s}-${n}`));
    }
    for (let n = 0; n < this.shape.h1Clients; n++) this.loops.push(this.h1Loop(n));
  }

  /** Requests answered or failed so far (HTTP/2 and HTTPS/1.1). */
  get requestsSoFar(): number {
    return this.report.h2Requests + this.report.h1Requests;
  }

  async stop(): Promise<TlsLoadReport> {
    this.isRunning = false;
    await Promise.all(this.loops);
    for (const session of this.sessions) session.close();
    this.agent.destroy();
    return this.report;
  }

  private openSession(): Promise<ClientHttp2Session> {
    return new Promise((resolve, reject) => {
      const session = connect(`https://${this.host}:${this.port}`, { ca: this.ca, servername: this.host, host: '127.0.0.1', port: this.port } as never);
      session.once('connect', () => resolve(session));
      session.once('error', reject);
    });
  }

  private record(kind: 'h1' | 'h2', status: number, headers: IncomingHttpHeaders | undefined, body: string, error?: Error): void {
    if (kind === 'h2') this.report.h2Requests++;
    else this.report.h1Requests++;
    if (error === undefined && status === 500 && headers?.['x-demo-injected-error'] === '1') {
      this.report.injectedErrors++;
      return;
    }
    if (error !== undefined || status < 200 || status > 299 || !body.includes('v')) {
      this.report.failures.push(`${kind}: ${error?.message ?? `${status} ${body.slice(0, 80)}`}`);
      return;
    }
    const key = String(headers?.['x-cutover-revision']);
    this.report.byRevision[key] = (this.report.byRevision[key] ?? 0) + 1;
  }

  /**
   * The open session of slot `s`: a session the proxy closed (GOAWAY from a worker that drains,
   * as on `cutover restart`) is replaced by a new one, as browsers do; its streams in flight finish.
   */
  private async sessionOf(s: number): Promise<ClientHttp2Session> {
    const session = this.sessions[s]!;
    if (!session.closed && !session.destroyed) return session;
    this.reopening[s] ??= this.openSession().then(
      (fresh) => {
        this.sessions.push(session);
        this.sessions[s] = fresh;
        this.reopening[s] = undefined;
        this.report.h2Reconnects++;
        return fresh;
      },
      (error: Error) => {
        this.reopening[s] = undefined;
        throw error;
      },
    );
    return this.reopening[s]!;
  }

  private async h2Loop(slot: number, id: string): Promise<void> {
    let n = 0;
    while (this.isRunning) {
      let session: ClientHttp2Session;
      try {
        session = await this.sessionOf(slot);
      } catch (error) {
        // No new session (the listener is gone): a failure, and the loop tries again shortly.
        this.record('h2', 0, undefined, '', error as Error);
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const isPost = n++ % 3 === 0 && this.shape.withPosts;
      const path = `/?c=${id}-${n}`;
      await new Promise<void>((resolve) => {
        const stream = session.request({ [constants.HTTP2_HEADER_PATH]: path, [constants.HTTP2_HEADER_METHOD]: isPost ? 'POST' : 'GET' });
        let status = 0;
        let responseHeaders: IncomingHttpHeaders | undefined;
        let body = '';
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
          responseHeaders = headers;
        });
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => {
          this.record('h2', status, responseHeaders, body);
          resolve();
        });
        stream.on('error', (error: Error) => {
          // REFUSED_STREAM: the server closed the session (GOAWAY) before it processed the stream,
          // which a client may send again (RFC 9113 §8.7), as browsers and curl do: no failure, counted
          // apart, and the loop goes on on the next session.
          if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM && status === 0) this.report.h2Refused++;
          else this.record('h2', status, responseHeaders, body, error);
          resolve();
        });
        stream.end(isPost ? 'hello' : undefined);
      });
    }
  }

  private async h1Loop(id: number): Promise<void> {
    let n = 0;
    while (this.isRunning) {
      const isPost = n++ % 3 === 0 && this.shape.withPosts;
      await new Promise<void>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port: this.port, path: `/?h1=${id}-${n}`, method: isPost ? 'POST' : 'GET', headers: { host: this.host }, agent: this.agent },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => {
              this.record('h1', res.statusCode ?? 0, res.headers, body);
              resolve();
            });
            res.on('error', (error) => {
              this.record('h1', res.statusCode ?? 0, res.headers, body, error);
              resolve();
            });
          },
        );
        req.on('error', (error) => {
          this.record('h1', 0, undefined, '', error);
          resolve();
        });
        req.end(isPost ? 'hello' : undefined);
      });
    }
  }
}

/**
 * Runs `during` under `load` and returns the load's report. The load stops whatever happens: a
 * failed assertion must not leave it running against a daemon the test then stops.
 */
export async function runUnderLoad(load: TlsLoad, during: () => Promise<void>): Promise<TlsLoadReport> {
  await load.start();
  try {
    await during();
  } catch (error) {
    await load.stop();
    throw error;
  }
  return load.stop();
}
