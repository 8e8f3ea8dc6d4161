import { HealthConnection, type Attempt, type ProbeResult } from './health-connection.js';

export type { ProbeResult } from './health-connection.js';

/** Checks sent over one kept connection before the next one opens a new connection. */
export const CHECKS_PER_CONNECTION = 30;

/**
 * The health checks of one instance, over one kept-alive connection (as Envoy's active checks
 * do): a check every second then costs a request, not a TCP handshake and a teardown each time.
 * A kept connection the app closed as a check went out (its keep-alive timeout) says nothing
 * about the app: that check is sent again at once on a new connection. Once the app answers
 * `Connection: close`, or closes idle connections, the next check simply opens a new one.
 * The request is one fixed buffer written on a plain socket and the answer is read by a small
 * bounded reader: `node:http`'s client cost about twice the CPU per check, which at 80 instances
 * checked every second was most of an idle daemon's work.
 */
export class HealthProbe {
  private readonly request: Buffer;
  private connection: HealthConnection | undefined;
  private opened = 0;
  private checksOnConnection = 0;
  private isClosed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    path: string,
    private readonly timeoutMs: number,
  ) {
    const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.request = Buffer.from(
      `GET ${requestTarget(path)} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: cutover-health\r\nConnection: keep-alive\r\n\r\n`,
      'latin1',
    );
  }

  /** One HTTP GET against the health path; 2xx and 3xx count as healthy. */
  async check(): Promise<ProbeResult> {
    // A kept connection proves the app answers, not that it still accepts new connections (a
    // dead accept loop, a full backlog): every so often a check goes over a new one.
    if (++this.checksOnConnection > CHECKS_PER_CONNECTION) {
      this.checksOnConnection = 1;
      this.dropConnection();
    }
    const first = await this.attempt();
    return first.isLostReusedConnection && !this.isClosed ? (await this.attempt()).result : first.result;
  }

  /** TCP connections opened so far (a kept one serves many checks). */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** Closes the kept connection (and fails a check in flight): the instance is no longer checked, and its graceful stop must not wait on it. */
  close(): void {
    this.isClosed = true;
    this.dropConnection();
  }

  private attempt(): Promise<Attempt> {
    if (this.isClosed) return Promise.resolve({ result: { isHealthy: false, detail: 'no longer checked' }, isLostReusedConnection: false });
    if (this.connection?.isBusy) {
      // Checks of one instance do not overlap (the monitor asks for the next once one ended); if
      // they did, the second one goes over a connection of its own, closed after its answer.
      const extra = new HealthConnection(this.host, this.port);
      this.opened += 1;
      return extra.send(this.request, this.timeoutMs).finally(() => extra.destroy());
    }
    if (!this.connection?.canCarryCheck(performance.now())) {
      this.connection?.destroy();
      this.connection = new HealthConnection(this.host, this.port);
      this.opened += 1;
    }
    return this.connection.send(this.request, this.timeoutMs);
  }

  private dropConnection(): void {
    this.connection?.destroy();
    this.connection = undefined;
  }
}

/** The path as a request target: bytes a request line cannot carry (spaces, controls, non-ASCII) percent-encoded. */
export function requestTarget(path: string): string {
  return path.replace(/[^\x21-\x7e]/gu, (character) =>
    [...Buffer.from(character, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}
