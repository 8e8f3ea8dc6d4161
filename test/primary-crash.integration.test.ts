import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { DaemonFixture, sampleAppConfig, waitFor, type CliResult } from './helpers/daemon-fixture.js';
import { externalProgram } from './helpers/external-program.js';
import { repoRoot } from './helpers/repo.js';
import { isAlive } from '../src/daemon/daemon-lock.js';

async function liveInstances(daemon: DaemonFixture): Promise<{ id: string; pid: number }[]> {
  const status = await daemon.status();
  return status.apps
    .flatMap((app) => app.instances.map((i) => ({ id: i.id, pid: i.pid!, state: i.state })))
    .filter((i) => i.state !== 'stopped')
    .map(({ id, pid }) => ({ id, pid }))
    .sort((a, b) => a.pid - b.pid);
}

/** Resolves with the time (performance.now()) of the first 2xx answer from origin, polling every 10 ms. */
async function firstServedAt(origin: string, isCancelled: () => boolean): Promise<number | null> {
  while (!isCancelled()) {
    try {
      const response = await fetch(`${origin}/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return performance.now();
    } catch {
      // Refused while no daemon runs: the figure we measure.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}

/**
 * Plays systemd's part in socket activation: binds and listens on the app's address, never
 * accepts, and for each line it reads runs `NODE CUTOVER.JS <line> GLOBALS…` (its arguments) with
 * the socket as fd 3 (`LISTEN_FDS=1`), answering with the exit code and the output on one line.
 * The socket lives as long as this process, not as long as the daemon.
 */
const SOCKET_HOLDER = `
import os, socket, subprocess, sys
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(1024)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ, LISTEN_FDS='1')
print('listening', flush=True)
for line in sys.stdin:
    r = subprocess.run(sys.argv[2:4] + line.split() + sys.argv[4:], pass_fds=(3,), env=env, stdin=subprocess.DEVNULL, capture_output=True)
    print(r.returncode, (r.stdout + r.stderr).decode(errors='replace').replace('\\n', ' | '), flush=True)
`;

/** A socket holder for the fixture's port; `runUp` runs `up` through it. */
function socketHolder(
  t: TestContext,
  python: string,
): { beforeUp: (fixture: DaemonFixture) => void; runUp: (fixture: DaemonFixture, args: string[]) => Promise<CliResult> } {
  let holder: ChildProcess | undefined;
  let lines: AsyncIterator<string> | undefined;
  let isListening = false;
  t.after(() => holder?.kill('SIGKILL'));
  return {
    beforeUp: (fixture) => {
      const globals = ['-c', fixture.configPath, '--data-dir', fixture.dataDir];
      holder = spawn(python, ['-c', SOCKET_HOLDER, String(fixture.port), process.execPath, path.join(repoRoot(), 'bin', 'cutover.js'), ...globals], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
    },
    runUp: async (_fixture, args) => {
      const answer = async (): Promise<string> => ((await lines!.next()).value as string | undefined) ?? 'the socket holder exited';
      // Its first line says it listens.
      if (!isListening) {
        const ready = await answer();
        if (ready !== 'listening') throw new Error(`socket holder: ${ready}`);
        isListening = true;
      }
      holder!.stdin!.write(`${args.join(' ')}\n`);
      const line = await answer();
      return { code: Number(line.slice(0, line.indexOf(' '))), stdout: line, stderr: '' };
    },
  };
}

/**
 * Given a daemon of 2 instances under 16 keep-alive clients, when its primary is SIGKILLed and,
 * after a moment without a daemon, `up --detach` runs again: the same instances serve (adopted,
 * none started), the new daemon serves once `up` returns, and nothing fails after that. Returns
 * the figures; requests refused or failed while no daemon ran are counted, not judged.
 */
async function crashPrimaryAndUpAgain(t: TestContext, label: string, upThrough?: ReturnType<typeof socketHolder>) {
  const coldStartedAt = performance.now();
  const daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2, env: { KEEPALIVE_MS: '1000' } }), upThrough ?? {});
  const coldUpMs = Math.round(performance.now() - coldStartedAt);
  t.after(() => daemon.stop());
  const upAgain = (): Promise<CliResult> => (upThrough ? upThrough.runUp(daemon, ['up', '--detach']) : daemon.cli(['up', '--detach']));
  const before = await liveInstances(daemon);
  assert.equal(before.length, 2, 'precondition: 2 instances');
  const primary = Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8'));
  const { pid: oldController } = await daemon.client.health();
  t.after(() => {
    // The old controller steps down and exits by itself; this only guards a failed test.
    if (isAlive(oldController)) process.kill(oldController, 'SIGKILL');
  });

  const load = new LoadClient({ origin: daemon.origin, clients: 16, pauseMs: 5, maxDurationMs: 120_000, maxFailuresKept: 1_000_000 });
  load.start();
  await waitFor('the load to flow', () => load.snapshot().requests > 200, 20_000);
  const atCrash = load.snapshot();
  assert.equal(atCrash.failed, 0, 'precondition: no failure before the crash');

  process.kill(primary, 'SIGKILL');
  await waitFor('the primary to be gone', () => !isAlive(primary));
  await waitFor('the old controller to step down and exit', () => !isAlive(oldController), 10_000);
  assert.ok(
    before.every((i) => isAlive(i.pid)),
    'every instance outlived the primary and its controller',
  );
  assert.match(daemon.logTail(), /the daemon primary is gone; this controller steps down/);
  assert.match(daemon.logTail(), /proxy worker \d+: the daemon primary is gone; it stops listening and finishes its connections/);
  // A moment with no daemon, under load.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const atUp = load.snapshot();

  let isProbing = true;
  const upStartedAt = performance.now();
  const served = firstServedAt(daemon.origin, () => !isProbing);
  const up = await upAgain();
  const upReturnedAt = performance.now();
  const atServing = load.snapshot();
  const servedAt = await Promise.race([served, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
  isProbing = false;
  assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}\n${daemon.logTail()}`);
  assert.ok(servedAt !== null, 'the probe was served after up');

  // Load after the new daemon serves: none of it may fail.
  await waitFor('load on the new daemon', () => load.snapshot().requests > atServing.requests + 500, 20_000);
  const report = await load.stop();
  const after = await liveInstances(daemon);
  const log = fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8');
  const startedAfterUp = log.slice(log.lastIndexOf('the daemon primary is gone')).match(/ starting \(revision \d+, pid/g) ?? [];
  const untilServing = report.failures.slice(atCrash.failed, atServing.failed);

  const figures = {
    refused: untilServing.filter((f) => /ECONNREFUSED/.test(f.error ?? '')).length,
    otherFailed: untilServing.filter((f) => !/ECONNREFUSED/.test(f.error ?? '')).length,
    failedWithoutDaemon: atUp.failed - atCrash.failed,
    failedAfterServing: report.failed - atServing.failed,
    requestsAfterServing: report.requests - atServing.requests,
    servedMsAfterUpStarted: Math.round(servedAt - upStartedAt),
    upTookMs: Math.round(upReturnedAt - upStartedAt),
    servedMsAfterUpReturned: Math.round(servedAt - upReturnedAt),
    coldUpMs,
  };
  t.diagnostic(`primary SIGKILL ${label}: ${JSON.stringify(figures)}`);
  assert.deepEqual(after, before, 'the same instances (ids and pids) serve: adopted, not restarted');
  assert.deepEqual(startedAfterUp, [], 'no new instance was started');
  assert.match(log, new RegExp(`${before[0]!.id} adopted`));
  // The new workers served the remembered plan, not waiting for the new controller to load and adopt.
  assert.match(log.slice(log.lastIndexOf('the daemon primary is gone')), /serving the last plans of web/);
  // `up --detach` returns once the daemon answers and its apps serve; a loaded machine may take
  // longer than 2 s to start node processes at all, so the start-to-serve figure is reported
  // beside a cold `up` of the same config, and asserted against the time `up` returned.
  assert.ok(figures.servedMsAfterUpReturned <= 2_000, `served ${figures.servedMsAfterUpReturned} ms after up returned\n${daemon.logTail()}`);
  assert.equal(figures.failedAfterServing, 0, JSON.stringify(report.failures.slice(-5)));
  assert.notEqual(Number(fs.readFileSync(path.join(daemon.dataDir, 'daemon.pid'), 'utf8')), primary, 'a new primary holds the lock');
  return figures;
}

const python = externalProgram('python3');

describe('a crash of the daemon primary (issue 20)', () => {
  it('keeps the instances running; the next `up` adopts them (same pids, none new) and serves once it returns', async (t) => {
    const figures = await crashPrimaryAndUpAgain(t, 'without socket activation');
    assert.ok(figures.refused > 0, 'precondition: connections were refused while no daemon ran (the fault really fired)');
  });

  it(
    'with the listening socket held outside the daemon (as systemd does): nothing is refused while no daemon runs',
    { skip: 'skip' in python ? python.skip : false },
    async (t) => {
      const figures = await crashPrimaryAndUpAgain(t, 'with the socket held (socket activation)', socketHolder(t, (python as { path: string }).path));
      assert.equal(figures.refused, 0, 'the held socket queued new connections in its backlog');
      // The old workers finish what they hold (each next answer says `Connection: close`), so a
      // crash of the primary fails nothing: not the requests in flight, not the keep-alive ones.
      assert.equal(figures.failedWithoutDaemon, 0, 'no request failed between the crash and the new daemon');
    },
  );
});
