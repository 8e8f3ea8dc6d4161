import type { Server } from 'node:net';

/**
 * Starts a server listening on an address (or on a listening socket handed over) and resolves
 * once it listens; rejects with the listen error (EADDRINUSE, EACCES…). From then on, accept
 * errors (EMFILE…) emitted on the server are ignored: they must not kill the worker.
 */
export function listenServer(server: Server, target: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      server.on('error', () => {});
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(target);
  });
}
