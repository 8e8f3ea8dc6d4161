import http from 'node:http';

export interface ProbeResult {
  isHealthy: boolean;
  /** What happened, for reasons and events: "200", "503", "connect ECONNREFUSED 127.0.0.1:4000", "timeout after 1000ms". */
  detail: string;
}

/** One answer, and whether the request failed on a kept connection before any answer came (the app may have closed it meanwhile). */
interface Attempt {
  result: ProbeResult;
  isLostReusedConnection: boolean;
}

/**
 * The health checks of one instance, over one kept-alive connection (as Envoy's active checks
 * do): a check every second then costs a request, not a TCP handshake and a teardown each time.
 * A kept connection the app closed as a check went out (its keep-alive timeout) says nothing
 * about the app: that check is sent again at once on a new connection. Once the app answers
 * `Connection: close`, or closes idle connections, the next check simply opens a new one.
 */
/** Checks sent over one kept connection before the next one opens a new connection. */
export const CHECKS_PER_CONNECTION = 30;

export class HealthProbe {
  private readonly agent = new http.Agent({ keepAlive: true, maxFreeSockets: 1 });
  private opened = 0;
  private checksOnConnection = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  /** One HTTP GET against the health path; 2xx and 3xx count as healthy. */
  async check(): Promise<ProbeResult> {
    // A kept connection proves the app answers, not that it still accepts new connections (a
    // dead accept loop, a full backlog): every so often a check goes over a new one.
    if (++this.checksOnConnection > CHECKS_PER_CONNECTION) {
      this.checksOnConnection = 1;
      this.agent.destroy();
    }
    const first = await this.attempt();
    return first.isLostReusedConnection ? (await this.attempt()).result : first.result;
  }

  /** TCP connections opened so far (a kept one serves many checks). */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** Closes the kept connection: the instance is no longer checked (its graceful stop must not wait on it). */
  close(): void {
    this.agent.destroy();
  }

  private attempt(): Promise<Attempt> {
    const { host, port, path, timeoutMs } = this;
    return new Promise((resolve) => {
      const request = http.request(
        { host, port, path, method: 'GET', agent: this.agent, timeout: timeoutMs, headers: { 'user-agent': 'cutover-health' } },
        (response) => {
          response.resume();
          const status = response.statusCode ?? 0;
          const isHealthy = status >= 200 && status < 400;
          response.on('end', () => resolve({ result: { isHealthy, detail: `HTTP ${status}` }, isLostReusedConnection: false }));
          response.on('error', () => resolve({ result: { isHealthy: false, detail: `HTTP ${status}, body cut off` }, isLostReusedConnection: false }));
        },
      );
      request.on('socket', () => {
        if (!request.reusedSocket) this.opened += 1;
      });
      request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs}ms`)));
      request.on('error', (error: NodeJS.ErrnoException) => {
        const detail = error.code ? `${error.code === 'ECONNREFUSED' ? 'connect ' : ''}${error.code} ${host}:${port}` : error.message;
        const isLost = request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        resolve({ result: { isHealthy: false, detail }, isLostReusedConnection: isLost });
      });
      request.end();
    });
  }
}
