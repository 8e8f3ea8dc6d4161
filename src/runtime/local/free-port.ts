import net from 'node:net';

/**
 * Ports this process handed out lately, not to be handed out again: the kernel may give the same
 * free port to two asks in a row, and two listeners picked that way (an app and a dashboard, two
 * instances) would then collide when they bind.
 */
const recentlyGiven: number[] = [];
const RECENT_PORTS_KEPT = 64;
const MAX_TRIES = 8;

/** Asks the kernel for a free loopback port. Another process may take it before we use it; a start then fails its checks and is retried. */
export async function findFreePort(host = '127.0.0.1', ask: (host: string) => Promise<number> = askKernelForPort): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await ask(host);
    if (recentlyGiven.includes(port) && attempt < MAX_TRIES) continue;
    recentlyGiven.push(port);
    if (recentlyGiven.length > RECENT_PORTS_KEPT) recentlyGiven.shift();
    return port;
  }
}

function askKernelForPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}
