import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ProxySpec } from '../model/app-spec.js';
import type { TrafficPlan } from '../model/traffic-plan.js';
import type { ListeningSocket } from '../proxy/listening-sockets.js';
import type { ListenAddress } from '../proxy/app-route.js';

/** The first inherited file descriptor under systemd's socket-activation protocol (`SD_LISTEN_FDS_START`). */
const LISTEN_FDS_START = 3;

/** `host:port` (`[host]:port` for IPv6): how an inherited socket is matched to the address a plan listens on. */
export function socketKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The file descriptors inherited under systemd's protocol (`sd_listen_fds`): `LISTEN_FDS`
 * sockets from fd 3, meant for this process when `LISTEN_PID` names it (or, from `cutover
 * restart`, which cannot know the pid beforehand, is absent).
 */
export function inheritedFds(env: NodeJS.ProcessEnv): number[] {
  const count = Number(env.LISTEN_FDS ?? '0');
  if (!Number.isInteger(count) || count <= 0 || count > 1024) return [];
  if (env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) !== process.pid) return [];
  return Array.from({ length: count }, (_, i) => LISTEN_FDS_START + i);
}

/**
 * The listening sockets the primary holds on behalf of its proxy workers: inherited from systemd
 * or from the daemon this one replaces. Each is matched by the address it is bound to (not by
 * its name), and a worker that listens on that address gets a copy instead of binding the
 * address again, so the socket (and the connections waiting in its backlog) outlives any process.
 */
export class HeldSockets {
  private readonly byKey = new Map<string, net.Socket>();

  /** Takes the sockets of `LISTEN_FDS` and removes the variables, so no child sees them. */
  static fromEnvironment(env: NodeJS.ProcessEnv, log: (line: string) => void): HeldSockets {
    const held = new HeldSockets();
    for (const fd of inheritedFds(env)) {
      let socket: net.Socket;
      try {
        // Not readable, not writable: a listening socket is only held here, never read.
        socket = new net.Socket({ fd, readable: false, writable: false });
      } catch (error) {
        log(`inherited fd ${fd} is not a stream socket (${(error as Error).message}); ignored`);
        continue;
      }
      const address = socket.address();
      if (!('port' in address) || typeof address.port !== 'number' || address.port === 0) {
        log(`inherited fd ${fd} is not a TCP socket bound to an address; ignored`);
        socket.destroy();
        continue;
      }
      held.byKey.set(socketKey(address.address, address.port), socket);
    }
    delete env.LISTEN_FDS;
    delete env.LISTEN_FDNAMES;
    delete env.LISTEN_PID;
    return held;
  }

  get size(): number {
    return this.byKey.size;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** The sockets with their keys, for a worker (each gets its own copy over IPC). */
  entries(): [string, net.Socket][] {
    return [...this.byKey.entries()];
  }

  /** Stops holding these sockets (no plan listens there any more): their addresses are free to bind again. */
  release(keys: readonly string[]): void {
    for (const key of keys) {
      this.byKey.get(key)?.destroy();
      this.byKey.delete(key);
    }
  }
}

/** The key of the address a plan listens on (a host name is not resolved: inherited sockets match by IP). */
export function planSocketKey(address: ListenAddress): string {
  return socketKey(address.host, address.port);
}

/** The addresses a plan listens on (main and previews), as held-socket keys. */
export function planKeys(plan: TrafficPlan): string[] {
  return [plan.listen, ...(plan.previews ?? []).map((p) => p.listen)].filter((a) => a.port !== 0).map(planSocketKey);
}

/**
 * The addresses the daemon listens on, as held-socket keys: every plan's, and the front door's
 * shared listeners (`proxy.listen.http/https`), which no plan names.
 */
export function servedKeys(plans: Iterable<TrafficPlan>, proxy: ProxySpec | undefined): string[] {
  const shared = [proxy?.listen?.http, proxy?.listen?.https].filter((address): address is ListenAddress => address != null);
  return [...[...plans].flatMap(planKeys), ...shared.map(planSocketKey)];
}

/** The libuv handle of a held socket: sent raw, so the receiving worker gets a handle, not a stream it would read. */
export function rawHandle(socket: net.Socket): net.Socket {
  return (socket as unknown as { _handle: net.Socket })._handle;
}

export function heldAsListening(socket: net.Socket): ListeningSocket {
  const address = socket.address() as AddressInfo;
  return { host: address.address, port: address.port, handle: rawHandle(socket) };
}
