import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { RequestScope, Tunnel } from './request-scope.js';
import { noRevisionUpstreamMessage, noUpstreamMessage, UPSTREAM_FAILED_MESSAGE, UPSTREAM_TIMEOUT_MESSAGE, writeRawErrorResponse } from './error-response.js';
import { sanitizeRequestHead } from './forwarded-headers.js';
import { checkRequestHead } from './request-limits.js';
import type { LongLivedConnection, UpstreamTarget } from './upstream-target.js';
import { FrameCursor, GOING_AWAY_CLOSE_FRAME } from './websocket-frames.js';

/** How long a client told to go away has to answer the close frame before its socket is cut. */
const GOING_AWAY_GRACE_MS = 2_000;

/** Largest upstream handshake response head the proxy reads before giving up (502). */
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Handles a server 'upgrade' event. Only a WebSocket handshake (`GET`, HTTP/1.1,
 * `Upgrade: websocket`) is passed through; anything else (h2c…) gets 400 and the connection
 * is closed, so no tunnel can bypass the proxy. The endpoint is chosen like a request's
 * (preview revision, route, sticky cookie, weight), except that a client without a sticky
 * cookie is not given one (a 101 response is passed on as is) and a tunnel is never mirrored.
 */
export function openTunnel(listener: RequestScope, req: IncomingMessage, client: Socket, head: Buffer): void {
  client.on('error', ignore);
  if (client.writableEnded || client.destroyed) return;
  if (!isWebSocketHandshake(req)) {
    writeRawErrorResponse(client, 400, 'only websocket upgrades are supported');
    return;
  }
  const sanitized = sanitizeRequestHead(req.rawHeaders, client.remoteAddress, listener.isTrustedPeer(client), listener.forwardedProto);
  const path = checkRequestHead(
    listener.options,
    req.method ?? 'GET',
    req.url ?? '/',
    req.httpVersionMajor,
    req.httpVersionMinor,
    req.rawHeaders.length >> 1,
    sanitized,
  );
  if (typeof path !== 'string') {
    writeRawErrorResponse(client, path.status, path.message);
    return;
  }
  if (listener.isClosing) {
    writeRawErrorResponse(client, 503, 'the proxy is shutting down');
    return;
  }
  const table = listener.route.table;
  const pinned = listener.previewRevision ?? table.routes?.match(req.headers);
  let target: UpstreamTarget | undefined;
  if (pinned !== undefined) target = table.pickInRevision(pinned);
  else {
    const stickyValue = table.sticky?.read(req.headers.cookie);
    target = stickyValue === undefined ? table.pick() : table.pickSticky(stickyValue);
  }
  if (target === undefined) {
    writeRawErrorResponse(client, 503, pinned === undefined ? noUpstreamMessage(table.app) : noRevisionUpstreamMessage(table.app, pinned));
    return;
  }
  new WebSocketTunnel(listener, req, client, head, pinned, path, sanitized.headers).connect(target);
}

export function isWebSocketHandshake(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return (
    req.method === 'GET' && req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && upgrade !== undefined && upgrade.trim().toLowerCase() === 'websocket'
  );
}

export const TUNNEL_STATES = ['connecting', 'handshaking', 'open', 'rejected', 'closed'] as const;
export type TunnelState = (typeof TUNNEL_STATES)[number];

/**
 * A WebSocket connection through the proxy: a raw TCP connection to the chosen endpoint,
 * the handshake forwarded with X-Forwarded-* set, and bytes piped both ways once the
 * upstream answered 101. Counted in flight on its endpoint until either side closes.
 */
class WebSocketTunnel implements Tunnel, LongLivedConnection {
  private state: TunnelState = 'connecting';
  /** Frames from the upstream to the client, so a close frame can go in between two. */
  private readonly toClient = new FrameCursor();
  /** Told to go away: the close frame goes out at the next frame boundary. */
  private isGoingAway = false;
  private upstream: Socket | undefined = undefined;
  private target: UpstreamTarget | undefined = undefined;
  private readonly tried: UpstreamTarget[] = [];
  private responseHead: Buffer = Buffer.alloc(0);
  /** Bytes of a non-101 response still to forward, when it has a Content-Length. */
  private rejectedBytesLeft = -1;

  constructor(
    private readonly listener: RequestScope,
    private readonly req: IncomingMessage,
    private readonly client: Socket,
    private readonly head: Buffer,
    /** The revision a routed or preview tunnel must stay in, retries included. */
    private readonly pinnedRevision: number | undefined,
    private readonly path: string,
    private readonly headers: readonly string[],
  ) {
    listener.tunnels.add(this);
    client.once('close', (hadError) => this.onClientClosed(hadError));
  }

  connect(target: UpstreamTarget): void {
    this.state = 'connecting';
    this.target = target;
    this.tried.push(target);
    target.begin();
    const { options } = this.listener;
    const upstream = connect({ host: target.host, port: target.port });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.setTimeout(options.upstreamConnectTimeoutMs);
    upstream.once('connect', () => this.onConnected(upstream));
    upstream.on('error', () => this.onUpstreamClosed(upstream, 'error'));
    upstream.on('timeout', () => this.onUpstreamClosed(upstream, 'timeout'));
    upstream.once('close', (hadError) => this.onUpstreamClosed(upstream, hadError ? 'error' : 'end'));
  }

  /** Cuts the tunnel at once (both sockets) and ends its in-flight count. Idempotent. */
  destroy(): void {
    this.finish();
    this.client.destroy();
  }

  /**
   * Ends an open tunnel cleanly (its endpoint is leaving): the upstream's frames stop at the
   * next frame boundary, the client gets a close frame 1001 "going away" and a FIN, what it
   * sends back is read and dropped (closing with unread data would reset the connection), and
   * the upstream gets a FIN. A tunnel not closed within GOING_AWAY_GRACE_MS (a client that never
   * answers, an upstream stalled mid-frame) is cut.
   */
  goAway(): void {
    if (this.state !== 'open' || this.isGoingAway) return;
    this.isGoingAway = true;
    const timer = setTimeout(() => this.destroy(), GOING_AWAY_GRACE_MS);
    timer.unref();
    this.client.once('close', () => clearTimeout(timer));
    if (this.toClient.isAtBoundary) this.sendGoingAway();
  }

  private sendGoingAway(): void {
    const { client, upstream } = this;
    if (upstream !== undefined) {
      upstream.removeAllListeners('data');
      client.unpipe(upstream);
      upstream.on('data', ignore);
      upstream.resume();
      upstream.end();
    }
    client.removeAllListeners('drain');
    client.on('data', ignore);
    client.resume();
    client.end(GOING_AWAY_CLOSE_FRAME);
  }

  /** Upstream bytes for the client, with backpressure; stops at a frame boundary once going away. */
  private forwardToClient(upstream: Socket, chunk: Buffer): void {
    if (this.isGoingAway) {
      const end = this.toClient.endOfFrame(chunk, 0);
      if (end === -1) {
        this.writeToClient(upstream, chunk);
        return;
      }
      this.writeToClient(upstream, chunk.subarray(0, end));
      this.sendGoingAway();
      return;
    }
    this.toClient.advance(chunk);
    this.writeToClient(upstream, chunk);
  }

  private writeToClient(upstream: Socket, chunk: Buffer): void {
    if (chunk.length > 0 && !this.client.write(chunk)) upstream.pause();
  }

  private onClientClosed(hadError: boolean): void {
    if (this.state === 'open' && !hadError && this.upstream !== undefined) {
      // Let what the client sent last reach the upstream; its 'close' ends the tunnel.
      this.upstream.destroySoon();
      return;
    }
    this.finish();
  }

  private onConnected(upstream: Socket): void {
    if (upstream !== this.upstream || this.state !== 'connecting') return;
    this.state = 'handshaking';
    upstream.setTimeout(this.listener.options.upstreamHeadersTimeoutMs);
    const { req } = this;
    const headers = [...this.headers, 'Connection', 'Upgrade', 'Upgrade', 'websocket'];
    let text = `${req.method} ${this.path} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${text}\r\n`, 'latin1');
    if (this.head.length > 0) upstream.write(this.head);
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(upstream, chunk));
  }

  private onUpstreamData(upstream: Socket, chunk: Buffer): void {
    if (upstream !== this.upstream) return;
    if (this.state === 'rejected') {
      this.forwardRejected(chunk);
      return;
    }
    if (this.state !== 'handshaking') return;
    const buffered = this.responseHead.length === 0 ? chunk : Buffer.concat([this.responseHead, chunk]);
    const headEnd = buffered.indexOf(HEAD_END);
    if (headEnd === -1) {
      if (buffered.length > MAX_RESPONSE_HEAD_BYTES) this.fail(502, UPSTREAM_FAILED_MESSAGE);
      else this.responseHead = buffered;
      return;
    }
    this.responseHead = Buffer.alloc(0);
    const statusCode = parseStatusCode(buffered);
    if (statusCode === undefined) {
      this.fail(502, UPSTREAM_FAILED_MESSAGE);
      return;
    }
    if (statusCode === 101) {
      this.open(upstream, buffered);
      return;
    }
    // Refused handshake: pass the upstream's answer on, then close both sides.
    this.state = 'rejected';
    const contentLength = parseContentLength(buffered, headEnd);
    this.rejectedBytesLeft = contentLength === undefined ? -1 : headEnd + HEAD_END.length + contentLength;
    this.forwardRejected(buffered);
  }

  private open(upstream: Socket, response: Buffer): void {
    this.state = 'open';
    const { client } = this;
    const idleMs = this.listener.options.tunnelIdleTimeoutMs;
    upstream.removeAllListeners('data');
    upstream.pause();
    upstream.setTimeout(idleMs);
    client.setTimeout(idleMs);
    client.on('timeout', () => this.destroy());
    client.setNoDelay(true);
    client.write(response);
    // The first frames may have come with the 101 response.
    this.toClient.advance(response.subarray(response.indexOf(HEAD_END) + HEAD_END.length));
    client.pipe(upstream);
    // Not piped: the proxy follows the frames, to be able to close between two (`goAway`).
    upstream.on('data', (chunk: Buffer) => this.forwardToClient(upstream, chunk));
    client.on('drain', () => upstream.resume());
    upstream.resume();
    this.target?.addLongLived(this);
  }

  private forwardRejected(chunk: Buffer): void {
    if (this.rejectedBytesLeft < 0) {
      this.client.write(chunk);
      return;
    }
    const part = chunk.length > this.rejectedBytesLeft ? chunk.subarray(0, this.rejectedBytesLeft) : chunk;
    this.rejectedBytesLeft -= part.length;
    this.client.write(part);
    if (this.rejectedBytesLeft === 0) this.endGracefully();
  }

  private onUpstreamClosed(upstream: Socket, reason: 'error' | 'timeout' | 'end'): void {
    if (upstream !== this.upstream) return;
    switch (this.state) {
      case 'connecting': {
        // Nothing was sent: try another endpoint (DESIGN rule 3).
        this.release();
        upstream.destroy();
        const { options, route } = this.listener;
        const next = this.tried.length < options.maxTries && !this.client.destroyed ? route.table.pickRetry(this.tried, false, this.pinnedRevision) : undefined;
        if (next !== undefined) this.connect(next);
        else if (reason === 'timeout') this.fail(504, UPSTREAM_TIMEOUT_MESSAGE);
        else this.fail(502, UPSTREAM_FAILED_MESSAGE);
        return;
      }
      case 'handshaking':
        if (reason === 'timeout') this.fail(504, UPSTREAM_TIMEOUT_MESSAGE);
        else this.fail(502, UPSTREAM_FAILED_MESSAGE);
        return;
      case 'rejected':
        this.endGracefully();
        return;
      case 'open':
        if (this.isGoingAway) {
          // The client may still be answering the close frame: its own 'close' (or the grace
          // timer) ends its socket, never a cut here.
          this.finish();
          return;
        }
        if (reason === 'end') this.endGracefully();
        else this.destroy();
        return;
      case 'closed':
        return;
    }
  }

  /** Answers the client with an error page, then closes. */
  private fail(statusCode: number, message: string): void {
    this.finish();
    writeRawErrorResponse(this.client, statusCode, message);
  }

  /** Ends the tunnel, letting what is queued for the client reach it first. */
  private endGracefully(): void {
    this.finish();
    this.client.destroySoon();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.release();
    this.upstream?.destroy();
    this.listener.tunnels.delete(this);
  }

  private release(): void {
    const target = this.target;
    if (target === undefined) return;
    this.target = undefined;
    target.removeLongLived(this);
    target.end();
  }
}

function parseStatusCode(response: Buffer): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})[ \r]/.exec(response.toString('latin1', 0, 16));
  return match === null ? undefined : Number(match[1]);
}

function parseContentLength(response: Buffer, headEnd: number): number | undefined {
  const match = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(response.toString('latin1', 0, headEnd + 2));
  return match === null ? undefined : Number(match[1]);
}

function ignore(): void {}
