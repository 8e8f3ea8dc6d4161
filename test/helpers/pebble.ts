import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { externalProgram } from './external-program.js';
import { refusedPort } from './proxy-fixtures.js';

const pebble = externalProgram('pebble');
const challtestsrv = externalProgram('pebble-challtestsrv', 'pebble');

/**
 * Why the ACME tests skip: Debian's pebble (the ACME test server and its mock DNS) is not
 * installed. Under CI (CUTOVER_REQUIRE_EXTERNAL=1) they fail instead (`externalProgram` throws).
 */
export const pebbleSkip: string | false = 'skip' in pebble ? `skipped: ${pebble.skip}` : 'skip' in challtestsrv ? `skipped: ${challtestsrv.skip}` : false;

/**
 * A real ACME server on loopback: pebble, with pebble-challtestsrv as its DNS (every name is
 * 127.0.0.1, no AAAA), so it validates HTTP-01 at `http://HOST:httpPort/` on this machine. Its
 * own TLS certificate is made here with openssl and trusted through `caFile`.
 */
export class TestPebble {
  private constructor(
    private readonly children: ChildProcess[],
    readonly directory: string,
    readonly caFile: string,
    readonly httpPort: number,
    private readonly managementUrl: string,
  ) {}

  /** Starts both in `dir` (config, certificates, logs); `httpPort` is where the test's challenge responder listens. */
  static async start(dir: string, httpPort: number): Promise<TestPebble> {
    const caFile = makeServerCertificate(dir);
    const [acmePort, managementPort, tlsPort, dnsPort, dnsManagementPort] = await distinctPorts(5);
    fs.writeFileSync(
      path.join(dir, 'pebble.json'),
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${managementPort}`,
          certificate: path.join(dir, 'pebble-cert.pem'),
          privateKey: path.join(dir, 'pebble-key.pem'),
          httpPort,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          // Let's Encrypt's lifetime: renewal is 30 days before the end, as in production.
          certificateValidityPeriod: 90 * 24 * 60 * 60,
        },
      }),
    );
    const log = (name: string): number => fs.openSync(path.join(dir, name), 'a');
    const children: ChildProcess[] = [];
    const started = (child: ChildProcess): ChildProcess => (children.push(child), child);
    const dns = started(
      spawn(
        'pebble-challtestsrv',
        [
          '-dns01',
          `127.0.0.1:${dnsPort}`,
          '-http01',
          '',
          '-https01',
          '',
          '-tlsalpn01',
          '',
          '-management',
          `127.0.0.1:${dnsManagementPort}`,
          '-defaultIPv6',
          '',
        ],
        { stdio: ['ignore', log('challtestsrv.log'), log('challtestsrv.log')] },
      ),
    );
    const acme = started(
      spawn('pebble', ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
        // No random validation delays, no nonces refused on purpose, and a fresh authorization for every order (so a renewal is validated again).
        env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
        stdio: ['ignore', log('pebble.log'), log('pebble.log')],
      }),
    );
    const server = new TestPebble(children, `https://127.0.0.1:${acmePort}/dir`, caFile, httpPort, `https://127.0.0.1:${managementPort}`);
    const deadline = performance.now() + 30_000;
    while (
      !(await server.get(server.directory).then(
        () => true,
        () => false,
      ))
    ) {
      if (acme.exitCode !== null || dns.exitCode !== null || performance.now() > deadline) {
        await server.stop();
        throw new Error(
          `pebble did not start: ${fs.readFileSync(path.join(dir, 'pebble.log'), 'utf8')}${fs.readFileSync(path.join(dir, 'challtestsrv.log'), 'utf8')}`,
        );
      }
      await sleep(100);
    }
    return server;
  }

  /** The root certificate pebble issues under (made at its start), to check a certificate it issued. */
  root(): Promise<string> {
    return this.get(`${this.managementUrl}/roots/0`);
  }

  get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const request = https.get(url, { ca: fs.readFileSync(this.caFile), timeout: 2_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${response.statusCode}`))));
      });
      request.on('timeout', () => request.destroy(new Error(`${url}: timed out`)));
      request.on('error', reject);
    });
  }

  /** Stops both processes (by their pids) and waits until they are gone. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
  }
}

/** A CA and a certificate for 127.0.0.1 signed by it (pebble's own TLS); returns the CA's file. */
function makeServerCertificate(dir: string): string {
  const file = (name: string): string => path.join(dir, name);
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ecKey, '-subj', '/CN=cutover test ACME CA', '-days', '2', '-keyout', file('ca-key.pem'), '-out', file('ca.pem')]);
  openssl(['req', ...ecKey, '-subj', '/CN=localhost', '-keyout', file('pebble-key.pem'), '-out', file('pebble.csr')]);
  fs.writeFileSync(file('pebble.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    ['x509', '-req', '-in', file('pebble.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      file('pebble.ext'),
      '-out',
      file('pebble-cert.pem'),
    ]),
  );
  return file('ca.pem');
}

async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await refusedPort());
  return [...ports];
}
