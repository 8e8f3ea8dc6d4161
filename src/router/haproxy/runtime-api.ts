import net from 'node:net';
import { CutoverError } from '../../errors.js';

/** One row of `show stat` for a server (the counters cutover reads; the rest is dropped). */
export interface ServerStatRow {
  backend: string;
  server: string;
  /** Requests waiting in the server's queue. */
  queued: number;
  /** Sessions on the server now: requests in flight. */
  current: number;
  /** Sessions since start (one per forwarded request in HTTP mode). */
  total: number;
  /** HAProxy's status text: UP, DOWN, DRAIN, MAINT, no check… */
  status: string;
  weight: number;
  responses1xx: number;
  responses2xx: number;
  responses3xx: number;
  responses4xx: number;
  responses5xx: number;
  /** Connections that could not be established (`econ`). */
  connectionErrors: number;
  /** Responses that failed mid-way or never came (`eresp`). */
  responseErrors: number;
  retries: number;
  redispatches: number;
  /** Averages over the last 1024 requests, in ms. */
  avgResponseTimeMs: number;
  avgTotalTimeMs: number;
  /** `ip:port` as HAProxy sees it. */
  address: string;
}

/** One server of `show servers state`. */
export interface ServerStateRow {
  backend: string;
  server: string;
  address: string;
  port: number;
  /** `srv_admin_state` bit field: 0x01 forced maint, 0x08 forced drain, … */
  adminState: number;
  weight: number;
}

/** One map of `show map`. */
export interface MapInfo {
  id: number;
  file: string;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * A client of HAProxy's runtime API (the stats socket, or the master socket): one connection
 * per command, the socket half-closed after it so HAProxy answers and closes.
 *
 * @example
 * const api = new RuntimeApi('/run/haproxy/admin.sock');
 * await api.execute('set server be_web/s1 weight 10');
 * const rows = await api.showStat(); // [{ backend: 'be_web', server: 's1', current: 2, … }]
 */
export class RuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** Sends one command; resolves with HAProxy's answer as text. */
  send(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.socketPath);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new CutoverError('HAPROXY_TIMEOUT', `HAProxy did not answer "${command}" on ${this.socketPath} within ${this.timeoutMs}ms`));
      }, this.timeoutMs);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new CutoverError('HAPROXY_UNREACHABLE', `cannot reach HAProxy's runtime API at ${this.socketPath}: ${error.code ?? error.message}`, {
            hint: 'Check that HAProxy runs and has "stats socket PATH level admin" in its global section.',
            cause: error,
          }),
        );
      });
      socket.end(`${command}\n`);
    });
  }

  /**
   * Sends a command that answers nothing on success (or only a notice HAProxy always prints);
   * anything else is an error.
   */
  async execute(command: string, isExpected: (answer: string) => boolean = (answer) => answer.trim() === ''): Promise<void> {
    const answer = await this.send(command);
    if (!isExpected(answer)) throw new CutoverError('HAPROXY_COMMAND_FAILED', `HAProxy refused "${command}": ${answer.trim()}`);
  }

  async showInfo(): Promise<Record<string, string>> {
    return parseInfo(await this.send('show info'));
  }

  /** Servers only (type mask 4), every proxy. */
  async showStat(): Promise<ServerStatRow[]> {
    return parseStat(await this.send('show stat -1 4 -1'));
  }

  async showServersState(backend?: string): Promise<ServerStateRow[]> {
    return parseServersState(await this.send(backend ? `show servers state ${backend}` : 'show servers state'));
  }

  async showMaps(): Promise<MapInfo[]> {
    return parseMapList(await this.send('show map'));
  }

  async showBackends(): Promise<string[]> {
    return (await this.send('show backend'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  }

  /**
   * Replaces the whole content of a map at once: a new version is prepared, filled and
   * committed, so a request sees the old map or the new one, never a mix.
   */
  async replaceMap(file: string, entries: readonly (readonly [string, string])[]): Promise<void> {
    const answer = await this.send(`prepare map ${escapeArg(file)}`);
    const version = /New version created: (\d+)/.exec(answer)?.[1];
    if (version === undefined) throw new CutoverError('HAPROXY_COMMAND_FAILED', `HAProxy refused to prepare map ${file}: ${answer.trim()}`);
    for (const [key, value] of entries) await this.execute(`add map @${version} ${escapeArg(file)} ${escapeArg(key)} ${escapeArg(value)}`);
    await this.execute(`commit map @${version} ${escapeArg(file)}`);
  }
}

/** Escapes an argument of a runtime API command: the CLI splits on spaces and `;`. */
export function escapeArg(value: string): string {
  return value.replace(/[\\\s;]/g, (c) => `\\${c}`);
}

/** `Name: value` lines of `show info`. */
export function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) info[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return info;
}

/** The CSV of `show stat`: a `# ` header line names the columns. */
export function parseStat(text: string): ServerStatRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (header === undefined || !header.startsWith('# ')) return [];
  const columns = header.slice(2).split(',');
  const index = new Map(columns.map((name, i) => [name, i]));
  const rows: ServerStatRow[] = [];
  for (const line of lines) {
    const cells = line.split(',');
    const text = (name: string): string => cells[index.get(name) ?? -1] ?? '';
    const num = (name: string): number => {
      const n = Number(text(name));
      return text(name) === '' || !Number.isFinite(n) ? 0 : n;
    };
    const server = text('svname');
    if (server === 'FRONTEND' || server === 'BACKEND') continue;
    rows.push({
      backend: text('pxname'),
      server,
      queued: num('qcur'),
      current: num('scur'),
      total: num('stot'),
      status: text('status'),
      weight: num('weight'),
      responses1xx: num('hrsp_1xx'),
      responses2xx: num('hrsp_2xx'),
      responses3xx: num('hrsp_3xx'),
      responses4xx: num('hrsp_4xx'),
      responses5xx: num('hrsp_5xx'),
      connectionErrors: num('econ'),
      responseErrors: num('eresp'),
      retries: num('wretr'),
      redispatches: num('wredis'),
      avgResponseTimeMs: num('rtime'),
      avgTotalTimeMs: num('ttime'),
      address: text('addr'),
    });
  }
  return rows;
}

/** `show servers state`: a version line, a `# ` header, then one line per server. */
export function parseServersState(text: string): ServerStateRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const headerAt = lines.findIndex((l) => l.startsWith('# '));
  if (headerAt < 0) return [];
  const columns = lines[headerAt]!.slice(2).split(' ');
  const index = new Map(columns.map((name, i) => [name, i]));
  return lines.slice(headerAt + 1).map((line) => {
    const cells = line.split(' ');
    const cell = (name: string): string => cells[index.get(name) ?? -1] ?? '';
    return {
      backend: cell('be_name'),
      server: cell('srv_name'),
      address: cell('srv_addr'),
      port: Number(cell('srv_port')),
      adminState: Number(cell('srv_admin_state')),
      weight: Number(cell('srv_uweight')),
    };
  });
}

/** `show map`: `ID (FILE) description` per loaded map. */
export function parseMapList(text: string): MapInfo[] {
  const maps: MapInfo[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+) \((.*?)\) /.exec(line);
    if (match) maps.push({ id: Number(match[1]), file: match[2]! });
  }
  return maps;
}
