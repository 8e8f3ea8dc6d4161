/**
 * The least a Node.js HTTP/2 proxy can do, for the HTTP/2 row of the TLS bench: Node's `http2`
 * server, each stream sent as an HTTP/1.1 GET over a raw keep-alive socket to the backend and
 * its answer sent back. No checks, limits, routing, retries, deadlines, metrics or draining: a
 * floor that shows what Node's `http2` and sockets cost on this machine, not a proxy to use.
 * It assumes the bench backend: bodies framed by `Content-Length`. HTTP/1.1 requests (the
 * bench's readiness check) get a plain 200. Run by `bench/tls-proxy.ts` as
 * `node-h2-floor.js HTTPS_PORT UPSTREAM_PORT CERT KEY`.
 */
import fs from 'node:fs';
import http2, { type ServerHttp2Stream } from 'node:http2';
import net from 'node:net';

const [httpsPort, upstreamPort, cert, key] = process.argv.slice(2);
const readBuffer = Buffer.alloc(64 * 1024);

/** One keep-alive connection to the backend, serving one stream at a time. */
class Upstream {
  readonly socket: net.Socket;
  stream: ServerHttp2Stream | undefined = undefined;
  private pending: Buffer | undefined = undefined;

  constructor() {
    this.socket = net.connect({
      host: '127.0.0.1',
      port: Number(upstreamPort),
      noDelay: true,
      onread: { buffer: readBuffer, callback: (bytes: number) => this.received(Buffer.from(readBuffer.subarray(0, bytes))) },
    });
    this.socket.on('error', () => this.stream?.destroy());
  }

  /** Returns true: keep reading. */
  private received(chunk: Buffer): boolean {
    const bytes = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    const headEnd = bytes.indexOf('\r\n\r\n');
    const head = headEnd === -1 ? '' : bytes.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (headEnd === -1 || length === undefined || bytes.length < headEnd + 4 + Number(length)) {
      this.pending = bytes;
      return true;
    }
    this.pending = undefined;
    const headers: Record<string, string | number> = { ':status': Number(head.slice(9, 12)) };
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      if (name !== 'connection' && name !== 'keep-alive') headers[name] = line.slice(colon + 1).trim();
    }
    const stream = this.stream!;
    this.stream = undefined;
    idle.push(this);
    if (!stream.destroyed) {
      stream.respond(headers);
      stream.end(bytes.subarray(headEnd + 4));
    }
    return true;
  }
}

const idle: Upstream[] = [];
const server = http2.createSecureServer({ cert: fs.readFileSync(cert!), key: fs.readFileSync(key!), allowHTTP1: true }, (req, res) => {
  if (req.httpVersionMajor === 1) res.end('floor\n');
});
// Streams are served here, not through the compatibility API's request handler.
const [compat] = server.listeners('stream');
server.removeListener('stream', compat as (...args: unknown[]) => void);
server.on('stream', (stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
  stream.on('error', () => undefined);
  const upstream = idle.pop() ?? new Upstream();
  upstream.stream = stream;
  upstream.socket.write(
    `GET ${headers[':path']} HTTP/1.1\r\nhost: ${headers[':authority']}\r\nuser-agent: ${headers['user-agent']}\r\n` + 'x-forwarded-proto: https\r\n\r\n',
    'latin1',
  );
});
server.listen(Number(httpsPort), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
