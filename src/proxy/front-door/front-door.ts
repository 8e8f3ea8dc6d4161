import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { CutoverError } from '../../errors.js';
import type { FastLane } from '../fast-lane/fast-lane.js';
import type { FrontDoorRoute } from '../../model/traffic-plan.js';
import type { AppRoute, ListenAddress } from '../app-route.js';
import type { FastScope } from '../fast-lane/fast-lane-listener.js';
import { sendErrorResponse, writeRawErrorResponse } from '../error-response.js';
import { forwardRequest } from '../forwarded-request.js';
import type { ListeningSocket, ListeningSocketSource } from '../listening-sockets.js';
import type { ProxyOptions } from '../proxy-options.js';
import type { RequestScope } from '../request-scope.js';
import { originFormTarget } from '../request-target.js';
import { openTunnel } from '../websocket-tunnel.js';
import { answerAcmeChallenge, isAcmeChallenge } from './acme-challenge.js';
import { CertificateStore, sniHostName } from './certificate-store.js';
import { requestHostName } from './host-names.js';
import { H2StreamLane } from './h2-stream-lane.js';
import { HostTable } from './host-table.js';
import { SharedListener, type SharedListenerHandler } from './shared-listener.js';

/** The front door's settings (`proxy.listen`, `proxy.tls`), handed to every proxy worker. */
export interface FrontDoorOptions {
  http: ListenAddress | null;
  https: ListenAddress | null;
  /** Plain requests for a host served over TLS get 308 to https. */
  redirectHttp: boolean;
  /** `Strict-Transport-Security` on TLS responses; null: none. */
  hsts: string | null;
  /** Where ACME certificates and HTTP-01 answers live; null: no ACME. */
  dataDir: string | null;
  /** How often certificate files are checked for changes. */
  certificatePollIntervalMs?: number;
  /**
   * A restart's new daemon: the apps the old daemon served on the shared listeners. Handed-over
   * listeners open only once every one of them is in the host table (see `listen`).
   */
  awaitedApps?: string[];
}

/** An app on a shared listener: the request scope its forwarded requests use. */
class FrontDoorScope implements RequestScope, FastScope {
  readonly previewRevision = undefined;
  readonly forwardedProto: 'http' | 'https';
  readonly extraResponseHead: string;

  constructor(
    private readonly listener: SharedListener,
    readonly route: AppRoute,
    readonly extraResponseHeaders: readonly string[] | undefined,
  ) {
    this.forwardedProto = listener.isTls ? 'https' : 'http';
    this.extraResponseHead = headLines(extraResponseHeaders ?? []);
  }

  get options(): ProxyOptions {
    return this.listener.options;
  }
  get isClosing(): boolean {
    return this.listener.isClosing;
  }
  get bodyGuard() {
    return this.listener.bodyGuard;
  }
  get tunnels() {
    return this.listener.tunnels;
  }
  isTrustedPeer(socket: Socket): boolean {
    return this.listener.isTrustedPeer(socket);
  }
  closeIdleConnections(): void {
    this.listener.closeIdleConnections();
  }
}

/** How long handed-over shared listeners wait for an app with hosts before they open anyway (as long as a successor daemon waits for its plans). */
const HANDED_OVER_OPEN_LIMIT_MS = 5_000;

/** One app's place in the host table. */
interface FrontDoorEntry {
  app: string;
  isTls: boolean;
  plain: FrontDoorScope | undefined;
  secure: FrontDoorScope | undefined;
}

/**
 * The shared listeners (HTTP and HTTPS with HTTP/2), where apps are chosen by host and path.
 * A request for a host no app serves gets 404 (plain) or 421 (TLS) from the proxy, is counted,
 * and never reaches an app. On the plain listener, ACME HTTP-01 challenges are answered first
 * for any host, then a host served over TLS is redirected (308) when `redirectHttp` is on. On
 * the TLS listener, a request whose Host is served by another certificate than its connection's
 * SNI name gets 421 (a client reusing a connection for another host must open its own).
 */
export class FrontDoor implements SharedListenerHandler {
  private readonly certificates: CertificateStore;
  private readonly plain: SharedListener | undefined;
  private readonly secure: SharedListener | undefined;
  /** Serves simple HTTP/2 streams without Node's compatibility API; undefined without the fast lane's pools. */
  private readonly h2Lane: H2StreamLane | undefined;
  private readonly routes = new Map<string, { route: AppRoute; frontDoor: FrontDoorRoute }>();
  private table = new HostTable<FrontDoorEntry>([]);
  private listening: Promise<void> | undefined;
  /** Opens handed-over listeners that no app's plan opened (see `listen`). */
  private lateOpening: NodeJS.Timeout | undefined = undefined;
  /** Requests (and upgrades) for no known host, answered by the proxy itself. */
  unknownHostRequests = 0;

  constructor(
    private readonly options: ProxyOptions,
    private readonly settings: FrontDoorOptions,
    private readonly log: (line: string) => void,
    fastLane?: FastLane,
  ) {
    this.h2Lane = fastLane?.isEnabled === true ? new H2StreamLane(fastLane) : undefined;
    this.certificates = new CertificateStore(settings.dataDir, log, settings.certificatePollIntervalMs);
    this.plain = settings.http === null ? undefined : new SharedListener(settings.http, options, this, undefined, fastLane);
    const contextFor = (name: string): SecureContext | undefined => this.certificates.contextFor(name);
    this.secure = settings.https === null ? undefined : new SharedListener(settings.https, options, this, contextFor, fastLane);
  }

  /** Adds or changes an app's hosts, paths and certificate; throws PROXY_INVALID_PLAN for a certificate file that cannot be loaded. */
  setApp(route: AppRoute, frontDoor: FrontDoorRoute): void {
    if (frontDoor.tls !== false && this.secure === undefined) {
      throw new CutoverError('PROXY_INVALID_PLAN', `app "${route.name}" is served over TLS, but the proxy has no HTTPS listener (proxy.listen.https)`);
    }
    if (frontDoor.tls === false && this.plain === undefined) {
      throw new CutoverError('PROXY_INVALID_PLAN', `app "${route.name}" has tls: false, but the proxy has no HTTP listener (proxy.listen.http)`);
    }
    this.certificates.setApp(route.name, frontDoor);
    this.routes.set(route.name, { route, frontDoor });
    this.rebuild();
  }

  removeApp(app: string): void {
    if (!this.routes.delete(app)) return;
    this.certificates.removeApp(app);
    this.rebuild();
  }

  /**
   * Opens the shared listeners (once), on the sockets handed over for their addresses when there
   * are. Rejects with PROXY_LISTEN_FAILED naming the address.
   */
  listen(sockets?: ListeningSocketSource, isForced = false): Promise<void> {
    // A socket handed over by the daemon this one replaces (`cutover restart`) is shared with the
    // old workers, which serve every app until then: accepting on it before the host table holds
    // every app they served would answer 421/404 to requests the old workers would have served
    // (the new controller pushes its apps' plans one by one).
    const isHandedOver = [this.plain, this.secure].some((listener) => listener !== undefined && sockets?.has(listener.address) === true);
    if (isHandedOver && !this.holdsAwaitedApps() && !isForced) {
      // An awaited app may never come (it left the config), nor any app with hosts: then the
      // listeners open anyway after a while, rather than leave clients waiting in the backlog once
      // the old workers are gone.
      this.lateOpening ??= setTimeout(() => {
        if (this.listening === undefined) this.listen(sockets, true).catch((error: Error) => this.log(error.message));
      }, HANDED_OVER_OPEN_LIMIT_MS);
      return Promise.resolve();
    }
    clearTimeout(this.lateOpening);
    this.listening ??= Promise.all(
      [this.plain, this.secure].map(async (listener) => {
        if (listener === undefined) return;
        try {
          await listener.listen(sockets?.take(listener.address));
        } catch (error) {
          const { host, port } = listener.address;
          throw new CutoverError(
            'PROXY_LISTEN_FAILED',
            `the shared ${listener.isTls ? 'HTTPS' : 'HTTP'} listener cannot listen on ${host}:${port}: ${(error as Error).message}`,
            {
              hint: 'Choose a free port in proxy.listen, or stop the process that holds it (ports below 1024 need privileges).',
              cause: error,
            },
          );
        }
      }),
    ).then(() => undefined);
    return this.listening;
  }

  /** The host table holds every app the old daemon served (any app, when that is unknown). */
  private holdsAwaitedApps(): boolean {
    const awaited = this.settings.awaitedApps ?? [];
    return awaited.length === 0 ? this.routes.size > 0 : awaited.every((app) => this.routes.has(app));
  }

  /** The shared listeners' sockets, for `cutover restart` to hand over. */
  listeningSockets(): ListeningSocket[] {
    const found: ListeningSocket[] = [];
    for (const listener of [this.plain, this.secure]) {
      const bound = listener?.boundAddress();
      const handle = listener?.listeningHandle();
      if (bound !== undefined && handle !== undefined && !listener!.isClosing) found.push({ host: bound.address, port: bound.port, handle });
    }
    return found;
  }

  /** HTTP/2 streams of the HTTPS listener served from the raw stream API, and those left to the compatibility API. */
  h2Streams(): { raw: number; compat: number } | undefined {
    return this.secure === undefined ? undefined : { ...this.secure.h2Streams };
  }

  address(kind: 'http' | 'https'): AddressInfo | undefined {
    return (kind === 'http' ? this.plain : this.secure)?.boundAddress();
  }

  close(timeoutMs: number, options: { isGentle?: boolean } = {}): Promise<void> {
    clearTimeout(this.lateOpening);
    const closing = [this.plain, this.secure].map((listener) => listener?.close(timeoutMs, options));
    return Promise.all(closing).then(() => {
      this.h2Lane?.close();
      this.certificates.close();
    });
  }

  onRequest(listener: SharedListener, req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'CONNECT') {
      sendErrorResponse(res, 400, 'CONNECT is not supported');
      return;
    }
    const hostHeader = hostOf(req);
    const target = routedTarget(req.url, hostHeader);
    if (!listener.isTls && isAcmeChallenge(target)) {
      answerAcmeChallenge(this.settings.dataDir, target, req, res);
      return;
    }
    const host = requestHostName(hostHeader);
    const entry = host === undefined ? undefined : this.table.match(host, target);
    const scope = this.scopeFor(listener, entry, host, req.socket);
    if (scope === 'unknown') {
      this.unknownHostRequests++;
      sendErrorResponse(res, listener.isTls ? 421 : 404, listener.isTls ? 'misdirected request: no app serves this host here' : 'no app serves this host');
      return;
    }
    if (scope === 'no-path') {
      sendErrorResponse(res, 404, NO_PATH_MESSAGE);
      return;
    }
    if (scope === 'redirect') {
      redirectToHttps(target, res, host!, this.secure!.boundAddress()?.port ?? this.secure!.address.port);
      return;
    }
    forwardRequest(scope, req, res);
  }

  /**
   * An HTTP/2 stream: a bodyless GET or HEAD routed to an app is served from the raw stream
   * (`H2StreamLane`) when it is simple; anything else (a body, another method, `Expect`, a
   * host no app serves here, a request the strict lane would refuse) returns false and goes
   * through Node's compatibility API to `onRequest`, which answers it as before.
   */
  onStream(listener: SharedListener, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): boolean {
    const lane = this.h2Lane;
    if (lane === undefined) return false;
    const method = headers[':method'];
    if ((method !== 'GET' && method !== 'HEAD') || (flags & http2constants.NGHTTP2_FLAG_END_STREAM) === 0 || headers.expect !== undefined) return false;
    const url = headers[':path'];
    const session = stream.session;
    if (typeof url !== 'string' || session === undefined) return false;
    const authority = headers[':authority'];
    const hostHeader = typeof authority === 'string' ? authority : headers.host;
    const host = requestHostName(hostHeader);
    const entry = host === undefined ? undefined : this.table.match(host, routedTarget(url, hostHeader));
    const socket = session.socket as Socket;
    const scope = this.scopeFor(listener, entry, host, socket);
    if (typeof scope === 'string') return false;
    return lane.serve(scope, stream, method, url, rawHeaders, socket);
  }

  /**
   * The app of a plain HTTP/1.1 request in the fast lane, by the rules of `onRequest`; undefined
   * for what the proxy answers itself (ACME challenges, unknown hosts, redirects): `onRequest`
   * answers those, on the strict lane.
   */
  fastScopeFor(listener: SharedListener, hostHeader: string, target: string, socket: Socket): FastScope | undefined {
    if (!listener.isTls && isAcmeChallenge(target)) return undefined;
    const host = requestHostName(hostHeader);
    const entry = host === undefined ? undefined : this.table.match(host, target);
    const scope = this.scopeFor(listener, entry, host, socket);
    return typeof scope === 'object' ? scope : undefined;
  }

  onUpgrade(listener: SharedListener, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const host = requestHostName(req.headers.host);
    const entry = host === undefined ? undefined : this.table.match(host, routedTarget(req.url, req.headers.host));
    const scope = this.scopeFor(listener, entry, host, socket);
    if (typeof scope === 'string') {
      socket.on('error', ignore);
      if (scope === 'unknown') this.unknownHostRequests++;
      if (scope === 'redirect') writeRawErrorResponse(socket, 400, 'use wss://');
      else if (scope === 'no-path') writeRawErrorResponse(socket, 404, NO_PATH_MESSAGE);
      else writeRawErrorResponse(socket, listener.isTls ? 421 : 404, 'no app serves this host');
      return;
    }
    openTunnel(scope, req, socket, head);
  }

  /**
   * The scope a request goes to, or why it goes nowhere: no app serves its host on this listener
   * ('unknown', 421/404), the host is served but none of its apps' paths covers the request
   * ('no-path', 404), or the host is served over TLS ('redirect').
   */
  private scopeFor(
    listener: SharedListener,
    entry: FrontDoorEntry | undefined,
    host: string | undefined,
    socket: Socket,
  ): FrontDoorScope | 'unknown' | 'no-path' | 'redirect' {
    if (entry === undefined) return host !== undefined && this.table.hasHost(host) && this.isServedOn(listener, host, socket) ? 'no-path' : 'unknown';
    if (listener.isTls) {
      if (entry.secure === undefined || !this.isServedOn(listener, host!, socket)) return 'unknown';
      return entry.secure;
    }
    if (entry.isTls && this.settings.redirectHttp && this.secure !== undefined) return 'redirect';
    return entry.plain ?? 'unknown';
  }

  /** On the TLS listener: the host's certificate is the one its connection's SNI name chose (else the client must open its own connection: 421). */
  private isServedOn(listener: SharedListener, host: string, socket: Socket): boolean {
    if (!listener.isTls) return true;
    const servername = (socket as TLSSocket).servername;
    return typeof servername !== 'string' || this.certificates.sourceFor(sniHostName(servername)) === this.certificates.sourceFor(host);
  }

  private rebuild(): void {
    const hsts = this.settings.hsts === null ? undefined : ['strict-transport-security', this.settings.hsts];
    const claims = [...this.routes.values()].map(({ route, frontDoor }) => {
      const isTls = frontDoor.tls !== false;
      const entry: FrontDoorEntry = {
        app: route.name,
        isTls,
        plain: this.plain === undefined ? undefined : new FrontDoorScope(this.plain, route, undefined),
        secure: isTls && this.secure !== undefined ? new FrontDoorScope(this.secure, route, hsts) : undefined,
      };
      return { hosts: frontDoor.hosts, paths: frontDoor.paths, value: entry };
    });
    this.table = new HostTable(claims);
  }
}

function hostOf(req: IncomingMessage): string | undefined {
  const authority = req.headers[':authority'];
  return typeof authority === 'string' ? authority : req.headers.host;
}

/** Answered for a host some app serves, at a path none of its apps covers. */
const NO_PATH_MESSAGE = 'no app serves this path on this host';

/**
 * The target a request is routed by: origin form (`/path?query`), as it is forwarded. An
 * absolute-form target (`http://host/path`) is routed by its path; one the strict lane will
 * refuse (400) is routed as it came.
 */
function routedTarget(url: string | undefined, host: string | undefined): string {
  const target = url ?? '/';
  return originFormTarget(target, host) ?? target;
}

/** 308 keeps the method and body; the path and query go along unchanged. */
function redirectToHttps(url: string, res: ServerResponse, host: string, httpsPort: number): void {
  const location = `https://${host}${httpsPort === 443 ? '' : `:${httpsPort}`}${url.startsWith('/') ? url : '/'}`;
  res.writeHead(308, ['location', location, 'content-length', '0']);
  res.end();
}

/** `name: value\r\n` lines of a flat header list. */
function headLines(headers: readonly string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return lines;
}

function ignore(): void {}
