import cluster from 'node:cluster';
import { ignoreOutputErrors } from './output-errors.js';
import { ProxyServer } from '../proxy/index.js';
import type { WorkerCommand, WorkerReply } from '../router/builtin/worker-messages.js';
import { workerFrontDoorOptions, workerProxyOptions } from './worker-proxy-options.js';
import { HandedSockets } from './handed-sockets.js';
import { isoTime } from '../util/iso-time.js';

/** How often a worker looks whether its counts moved since the controller read them (the controller's own sampling period). */
const MOVED_CHECK_MS = 500;

/**
 * A proxy worker: the data plane. It serves only what the primary hands it; it listens only
 * after it holds the current plans, so no connection ever meets an empty table.
 */
export function runWorker(): void {
  // Logs go to a file; a full disk must not take the process down with an unhandled 'error'.
  ignoreOutputErrors();
  const handed = new HandedSockets();
  const proxy = new ProxyServer(workerProxyOptions(), workerFrontDoorOptions(), undefined, handed);
  const send = (message: WorkerReply, handle?: object): void => {
    if (process.connected) process.send!(message, handle as Parameters<NonNullable<typeof process.send>>[1]);
  };

  // The controller reads the counts only once they moved: at rest nothing crosses the IPC channel.
  let readTally = proxy.measurementsTally();
  let isMovedSent = false;
  setInterval(() => {
    if (isMovedSent || proxy.measurementsTally() === readTally) return;
    isMovedSent = true;
    // A notice lost with a primary that just died does not matter; an unhandled EPIPE would end this worker's in-flight requests.
    if (process.connected) process.send!({ type: 'measurementsMoved' } satisfies WorkerReply, undefined, {}, () => {});
  }, MOVED_CHECK_MS).unref();

  process.on('message', (message: WorkerCommand, socketHandle?: object) => {
    if (message.type === 'socket') {
      if (socketHandle) handed.add(message.key, socketHandle);
      return;
    }
    void handle(message).then(
      (answer) => 'requestId' in message && send({ type: 'reply', requestId: message.requestId, ...(answer ?? {}) }),
      (error: unknown) =>
        'requestId' in message && send({ type: 'reply', requestId: message.requestId, error: error instanceof Error ? error.message : String(error) }),
    );
  });

  async function handle(message: WorkerCommand): Promise<Pick<WorkerReply & { type: 'reply' }, 'inflight' | 'measurements'> | undefined> {
    switch (message.type) {
      case 'plans': {
        const results = await Promise.allSettled(message.plans.map((plan) => proxy.applyPlan(plan)));
        // The shared listeners open once the worker holds the plans (the first message after 'started'),
        // even when one app's plan was refused: the other apps are served.
        await proxy.listenFrontDoor();
        const refused = results.find((result) => result.status === 'rejected');
        if (refused !== undefined) throw refused.reason;
        return undefined;
      }
      case 'removeApp':
        await proxy.removeApp(message.app);
        return undefined;
      case 'inflight':
        return { inflight: proxy.inflight() };
      case 'measurements':
        readTally = proxy.measurementsTally();
        isMovedSent = false;
        return { measurements: { source: `worker-${process.pid}`, ...proxy.measurements() } };
      case 'listeningSockets':
        // The IPC channel copies each socket to the primary; this worker keeps listening on its own.
        for (const socket of proxy.listeningSockets()) {
          send({ type: 'listeningSocket', requestId: message.requestId, host: socket.host, port: socket.port }, socket.handle);
        }
        return undefined;
      case 'drain':
        await proxy.close({ isGentle: message.isGentle === true });
        process.exit(0);
    }
  }

  // The primary decides when a worker goes; a terminal's Ctrl-C reaches the whole group.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // The primary is gone (a crash, or it exited): stop listening at once, so a new daemon can bind
  // the addresses, but let the connections end gently. Requests in flight finish, each next
  // answer carries `Connection: close`, and idle keep-alive connections are left to their clients:
  // closing them here would race a request the client is sending on them (a reset it cannot retry).
  process.on('disconnect', () => {
    console.log(`${isoTime()} proxy worker ${process.pid}: the daemon primary is gone; it stops listening and finishes its connections`);
    void proxy.close({ isGentle: true }).finally(() => process.exit(0));
  });
  // node:cluster makes a worker whose primary vanished exit at once, requests and all, unless the
  // disconnect was asked for. Its 'disconnect' event comes just before that check: mark this one
  // as asked for, so the close above can finish.
  cluster.worker?.on('disconnect', () => {
    cluster.worker!.exitedAfterDisconnect = true;
  });
  send({ type: 'started' });
}
