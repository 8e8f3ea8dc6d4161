/**
 * Real local servers and clients for the proxy's tests (not a test file itself: the name
 * does not match node --test's patterns). Everything listens on 127.0.0.1, port 0.
 */
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Endpoint, RevisionGroup, TrafficPlan } from '../model/traffic-plan.js';
import type { ProxyOptions } from './proxy-options.js';
import { ProxyServer } from './proxy-server.js';

export const LOOPBACK = '127.0.0.1';

export interface TestUpstream {
  readonly server: Server;
  readonly port: number;
  /** Requests received so far (counted when the head arrives). */
  readonly received: IncomingMessage[];
  endpoint(id: string): Endpoint;
  count(method?: string): number;
  /** TCP connections currently open to this upstream. */
  openConnections(): number;
  close(): Promise<void>;
}

/** An upstream answering `200 <id>` unless given another handler. */
export async function startUpstream(handler?: RequestListener, configure?: (server: Server) => void): Promise<TestUpstream> {
  const received: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    received.push(req);
    if (handler) handler(req, res);
    else {
      req.resume();
      req.on('end', () => res.end('ok'));
    }
  });
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  configure?.(server);
  server.listen({ host: LOOPBACK, port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    received,
    endpoint: (id) => ({ id, host: LOOPBACK, port }),
    count: (method) => (method === undefined ? received.length : received.filter((req) => req.method === method).length),
    openConnections: () => connections,
    close: () => closeServer(server),
  };
}

export async function closeServer(server: Server | ReturnType<typeof createNetServer>): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closed;
}

/** A loopback port with nothing listening on it: connecting is refused. */
export async function refusedPort(): Promise<number> {
  const server = createNetServer();
  server.listen({ host: LOOPBACK, port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

export function group(revision: number, weight: number, endpoints: Endpoint[]): RevisionGroup {
  return { revision, weight, endpoints };
}

export function makePlan(version: number, groups: RevisionGroup[], listen = { host: LOOPBACK, port: 0 }, app = 'web'): TrafficPlan {
  return { app, version, listen, groups };
}

export interface TestProxy {
  readonly proxy: ProxyServer;
  readonly port: number;
  readonly agent: Agent;
  close(): Promise<void>;
}

/** A proxy serving `plan` on an ephemeral port, with a keep-alive client agent for it. */
export async function startProxy(plan: TrafficPlan, options: Partial<ProxyOptions> = {}): Promise<TestProxy> {
  const proxy = new ProxyServer(options);
  await proxy.applyPlan(plan);
  const port = proxy.address(plan.app)?.port;
  if (port === undefined) throw new Error('the proxy is not listening');
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return {
    proxy,
    port,
    agent,
    close: async () => {
      agent.destroy();
      await proxy.close();
    },
  };
}

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface SendOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  agent?: Agent | false;
  signal?: AbortSignal;
}

/** One HTTP request to a local port; resolves with the full response. */
export function send(port: number, options: SendOptions = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: LOOPBACK,
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers,
        agent: options.agent ?? false,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Waits until `condition` holds, polling; fails after `timeoutMs` with `what` in the message. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(2);
  }
}

/** A handler that holds every response until `release()` is called. */
export function heldResponses(): { handler: RequestListener; held: ServerResponse[]; release(): void } {
  const held: ServerResponse[] = [];
  let isReleased = false;
  return {
    held,
    handler: (req, res) => {
      req.resume();
      if (isReleased) res.end('late');
      else held.push(res);
    },
    release: () => {
      isReleased = true;
      for (const res of held.splice(0)) res.end('released');
    },
  };
}

/** Closes a raw client socket and waits for it. */
export async function closeSocket(socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  const closed = once(socket, 'close');
  socket.destroy();
  await closed;
}

/** An upstream answering `200 <name>`, so a test can tell which revision served a request. */
export function namedUpstream(name: string): Promise<TestUpstream> {
  return startUpstream((req, res) => {
    req.resume();
    req.on('end', () => res.end(name));
  });
}

/**
 * Sends `count` requests, `concurrency` at a time over the agent's keep-alive connections;
 * `options(i)` gives each one's options. Resolves with the responses in request order.
 */
export async function sendMany(port: number, count: number, options: (i: number) => SendOptions, concurrency = 32): Promise<TestResponse[]> {
  const responses: TestResponse[] = new Array<TestResponse>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      responses[i] = await send(port, options(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return responses;
}

/** How many responses had each body. */
export function countBodies(responses: readonly TestResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of responses) counts[res.text] = (counts[res.text] ?? 0) + 1;
  return counts;
}

/** Resolves true when a TCP connection to the port is accepted, false when refused. */
export async function isAccepting(port: number): Promise<boolean> {
  const socket = connect({ host: LOOPBACK, port });
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
