import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the sentinel upstream saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

/** Markers no request reaching the upstream may carry: a vector hid them where only a desync would turn them into a request. */
export const FORBIDDEN_PATH_MARKERS = ['smuggled', 'after-error'] as const;
/** A client's spoofed forwarding address, which the proxy must replace. */
export const SPOOFED_ADDRESS = '6.6.6.6';
/** Headers no request reaching the upstream may carry (hop-by-hop, or named in Connection by a vector). */
export const FORBIDDEN_HEADERS = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
  'x-hop',
  'proxy-authorization',
  'expect',
] as const;

/**
 * The upstream behind the proxy in the hostile-input tests: answers every request with 200 and
 * the path it saw, and records everything, so a test can tell what the proxy let through.
 * `violations()` lists what it should never have seen.
 */
export class SentinelUpstream {
  readonly seen: SeenRequest[] = [];
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<SentinelUpstream> {
    const server = createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    server.listen({ host: '127.0.0.1', port: 0 });
    await once(server, 'listening');
    const sentinel = new SentinelUpstream(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        sentinel.seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('latin1') });
        const body = `seen ${req.url}\n`;
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    return sentinel;
  }

  /** Requests other than the keep-alive probes. */
  requests(from = 0): SeenRequest[] {
    return this.seen.slice(from).filter((r) => r.url !== '/probe');
  }

  /** Everything the upstream saw that it never should have. */
  violations(from = 0): string[] {
    const found: string[] = [];
    for (const r of this.seen.slice(from)) {
      for (const marker of FORBIDDEN_PATH_MARKERS) if (r.url.includes(marker)) found.push(`a request to ${r.url} reached the upstream`);
      const names = new Map<string, string[]>();
      for (let i = 0; i < r.rawHeaders.length; i += 2) {
        const name = r.rawHeaders[i]!.toLowerCase();
        names.set(name, [...(names.get(name) ?? []), r.rawHeaders[i + 1]!]);
      }
      // The proxy's own hop to the upstream may say keep-alive or close; nothing else.
      const connection = names.get('connection');
      if (connection !== undefined && !(connection.length === 1 && /^(keep-alive|close)$/i.test(connection[0]!))) {
        found.push(`${r.method} ${r.url} carried connection: ${connection.join(', ')}`);
      }
      for (const name of FORBIDDEN_HEADERS)
        if (name !== 'connection' && names.has(name)) found.push(`${r.method} ${r.url} carried ${name}: ${names.get(name)!.join(', ')}`);
      if (names.has('content-length') && names.has('transfer-encoding')) found.push(`${r.method} ${r.url} carried both Content-Length and Transfer-Encoding`);
      if ((names.get('content-length') ?? []).length > 1) found.push(`${r.method} ${r.url} carried several Content-Length headers`);
      if ((names.get('host') ?? []).length > 1) found.push(`${r.method} ${r.url} carried several Host headers`);
      const forwarded = [...(names.get('x-forwarded-for') ?? []), ...(names.get('forwarded') ?? []), ...(names.get('x-forwarded-host') ?? [])].join(' ');
      if (forwarded.includes(SPOOFED_ADDRESS) || forwarded.includes('evil.example'))
        found.push(`${r.method} ${r.url} carried a spoofed forwarding header: ${forwarded}`);
      if ((names.get('x-forwarded-for') ?? []).length !== 1)
        found.push(`${r.method} ${r.url} carried ${(names.get('x-forwarded-for') ?? []).length} X-Forwarded-For headers`);
    }
    return found;
  }

  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }
}
