import type { ListenAddress } from './app-route.js';

/**
 * Listening sockets a proxy worker was handed instead of binding addresses itself: those the
 * daemon inherited from systemd or from the daemon it replaces (`cutover restart`). A socket
 * handle is given out once; an address without one is bound as usual.
 */
export interface ListeningSocketSource {
  take(address: ListenAddress): object | undefined;
  /** Whether a socket was handed over for this address (and not taken yet). */
  has(address: ListenAddress): boolean;
}

/** One listening socket of this worker, for a successor daemon to take over. */
export interface ListeningSocket {
  readonly host: string;
  readonly port: number;
  /** The socket's libuv handle, which Node's IPC channel can pass to another process. */
  readonly handle: object;
}
