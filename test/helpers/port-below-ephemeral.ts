import fs from 'node:fs';
import net from 'node:net';

/** Ports handed out by this process: never twice. */
const given = new Set<number>();
const LOWEST_PORT = 10_000;

/** The low end of the kernel's ephemeral port range, from which it takes the source port of every outgoing connection. */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST_PORT + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free loopback port below the ephemeral range, for a test that binds it long after picking
 * it. A port the kernel picked (`findFreePort`) is in that range, so it may meanwhile become the
 * source port of one of the test's own outgoing connections, and the bind then fails with
 * EADDRINUSE; a port below the range never does.
 */
export async function findPortBelowEphemeral(host = '127.0.0.1'): Promise<number> {
  const low = ephemeralLow();
  for (let tries = 0; tries < 100; tries++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (low - LOWEST_PORT));
    if (given.has(port) || !(await isFree(host, port))) continue;
    given.add(port);
    return port;
  }
  throw new Error(`no free port found between ${LOWEST_PORT} and ${low}`);
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
