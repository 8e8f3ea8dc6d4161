/**
 * The least a Node.js proxy can do over TLS, for the TLS bench: Node's `http2` server with
 * HTTP/1.1 by ALPN, each request sent as HTTP/1.1 over a raw keep-alive socket to the backend
 * and its answer sent back. HTTP/2 streams go through Node's raw stream API; HTTP/1.1
 * connections are read and written as raw TLS sockets, the response bytes passed on as they
 * came. No checks, limits, routing, retries, deadlines, metrics or draining: a floor that shows
 * what Node's TLS, `http2` and sockets cost on this machine, not a proxy to use. It assumes the
 * bench's load and backend: one request at a time per HTTP/1.1 connection, bodyless GETs,
 * responses framed by `Content-Length`. Run by `bench/tls-proxy.ts` as
 * `node-tls-floor.js HTTPS_PORT UPSTREAM_PORT CERT KEY`.
 */
import fs from 'node:fs';
import http2, { type ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';

const [httpsPort, upstreamPort, cert, key] = process.argv.slice(2);
const readBuffer = Buffer.alloc(64 * 1024);
const END_OF_HEAD = '\r\n\r\n';

/** Called with a whole upstream response and where its head ends. */
type Deliver = (response: Buffer, headEnd: number) => void;

/** One keep-alive connection to the backend, serving one request at a time. */
class Upstream {
  readonly socket: net.Socket;
  deliver: Deliver | undefined = undefined;
  isClosed = false;
  private pending: Buffer | undefined = undefined;

  constructor() {
    this.socket = net.connect({
      host: '127.0.0.1',
      port: Number(upstreamPort),
      noDelay: true,
      onread: { buffer: readBuffer, callback: (bytes: number) => this.received(Buffer.from(readBuffer.subarray(0, bytes))) },
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.isClosed = true));
  }

  send(head: string, deliver: Deliver): void {
    this.deliver = deliver;
    this.socket.write(head, 'latin1');
  }

  /** Returns true: keep reading. */
  private received(chunk: Buffer): boolean {
    const bytes = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    const headEnd = bytes.indexOf(END_OF_HEAD);
    const length = headEnd === -1 ? undefined : /\r\ncontent-length: *(\d+)/i.exec(bytes.toString('latin1', 0, headEnd))?.[1];
    if (length === undefined || bytes.length < headEnd + END_OF_HEAD.length + Number(length)) {
      this.pending = bytes;
      return true;
    }
    this.pending = undefined;
    const deliver = this.deliver!;
    this.deliver = undefined;
    idle.push(this);
    deliver(bytes, headEnd);
    return true;
  }
}

const idle: Upstream[] = [];

function upstream(): Upstream {
  let found = idle.pop();
  while (found?.isClosed) found = idle.pop();
  return found ?? new Upstream();
}

function serveStream(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  const head = `GET ${headers[':path']} HTTP/1.1\r\nhost: ${headers[':authority']}\r\nuser-agent: ${headers['user-agent']}\r\nx-forwarded-proto: https\r\n\r\n`;
  upstream().send(head, (response, headEnd) => {
    if (stream.destroyed) return;
    const text = response.toString('latin1', 0, headEnd);
    const fields: Record<string, string | number> = { ':status': Number(text.slice(9, 12)) };
    for (const line of text.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      if (name !== 'connection' && name !== 'keep-alive') fields[name] = line.slice(colon + 1).trim();
    }
    stream.respond(fields);
    stream.end(response.subarray(headEnd + END_OF_HEAD.length));
  });
}

function serveHttp1(socket: TLSSocket): void {
  socket.on('error', () => undefined);
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    const headEnd = pending.indexOf(END_OF_HEAD);
    if (headEnd === -1) return;
    const head = `${pending.slice(0, headEnd)}\r\nx-forwarded-proto: https\r\n\r\n`;
    pending = pending.slice(headEnd + END_OF_HEAD.length);
    upstream().send(head, (response) => socket.write(response));
  });
}

const server = http2.createSecureServer({ cert: fs.readFileSync(cert!), key: fs.readFileSync(key!), allowHTTP1: true });
// HTTP/1.1 connections (by ALPN) are served here; the others go on to Node's http2 core.
const [http2Core] = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
server.removeAllListeners('secureConnection');
server.on('secureConnection', (socket: TLSSocket) => {
  if (socket.alpnProtocol === 'http/1.1' || socket.alpnProtocol === false) serveHttp1(socket);
  else http2Core!.call(server, socket);
});
server.on('stream', serveStream);
server.listen(Number(httpsPort), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
