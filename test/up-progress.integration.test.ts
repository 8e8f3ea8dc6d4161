import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CutoverClient } from '../src/api/client.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { repoRoot } from './helpers/repo.js';
import { runCli, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

interface ScratchApp {
  config: string;
  dataDir: string;
  client: CutoverClient;
  /** `cutover down`, then SIGKILL by PID to whatever of ours outlived it, then the dir goes. */
  cleanUp: () => Promise<void>;
}

/** A scratch dir with a config whose app never passes its health check (the demo's BROKEN=never-ready answers 503). */
function givenNeverReadyApp(): Promise<ScratchApp> {
  return givenScratchApp((port) => sampleAppConfig(port, { replicas: 1, env: { BROKEN: 'never-ready' }, startupTimeout: '3s' }));
}

/** A scratch dir with the config given, not started: the test runs `up` itself and reads its output. */
async function givenScratchApp(configText: (port: number) => string): Promise<ScratchApp> {
  const port = await findFreePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-upw-'));
  const config = path.join(dir, 'cutover.yaml');
  const dataDir = path.join(dir, 'data');
  fs.writeFileSync(config, configText(port));
  const client = new CutoverClient({ socketPath: path.join(dataDir, 'cutover.sock') });
  const seen = new Set<number>();
  const remember = async (): Promise<void> => {
    const status = await client.status().catch(() => null);
    for (const a of status?.apps ?? []) for (const i of a.instances) if (i.pid) seen.add(i.pid);
  };
  const cleanUp = async (): Promise<void> => {
    await remember();
    await runCli(['down', '-c', config, '--data-dir', dataDir]);
    const pidFile = path.join(dataDir, 'daemon.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : 0;
    for (const p of [pid, ...[...seen].map((s) => -s)]) if (p) killQuietly(p);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { config, dataDir, client, cleanUp };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

describe('issue 21: up shows what it waits for and fails as soon as the reason is known', () => {
  it('up --detach prints the instances starting with the health check last answer, and a failed first up says the daemon runs and how to stop it', async () => {
    const app = await givenNeverReadyApp();
    try {
      const result = await runCli(['up', '--detach', '-c', app.config, '--data-dir', app.dataDir]);
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /web: waiting for 1 instance of revision 1 to pass their health check \(last check: HTTP 503/);
      assert.match(result.stdout, /web-1-\w+ starting \(revision 1, pid \d+/, 'the rollout events are printed as deploy prints them');
      assert.match(result.stderr, /web: rollout \d+ (failed|rolled-back|aborted)/);
      assert.match(result.stderr, /the daemon keeps running \(pid \d+\).*cutover down/);
      // Precondition of the message: the daemon really did keep running.
      assert.ok((await app.client.health()).pid > 0);
    } finally {
      await app.cleanUp();
    }
  });

  it('up --detach ends within seconds when the daemon exits while it waits, saying nothing is left running', async () => {
    const app = await givenNeverReadyApp();
    try {
      const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), 'up', '--detach', '-c', app.config, '--data-dir', app.dataDir], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
      await waitFor('up waiting on the health check', () => stdout.includes('to pass their health check'), 30_000);
      const pid = Number(fs.readFileSync(path.join(app.dataDir, 'daemon.pid'), 'utf8'));
      const status = await app.client.status();
      const instancePids = status.apps.flatMap((a) => a.instances.flatMap((i) => (i.pid ? [i.pid] : [])));
      const killedAt = performance.now();
      process.kill(-pid, 'SIGKILL'); // The daemon's process group: primary, workers, controller.
      for (const p of instancePids) killQuietly(-p);
      const code = await exited;
      const tookMs = performance.now() - killedAt;
      assert.equal(code, 1, `${stdout}\n${stderr}`);
      assert.match(stderr, /the daemon was stopped by SIGKILL while starting the apps/);
      assert.match(stderr, /Nothing is left running/);
      assert.ok(tookMs < 5_000, `up ended ${Math.round(tookMs)} ms after the daemon died (the startup wait is 30 s)`);
    } finally {
      await app.cleanUp();
    }
  });
});

describe('issue 21: up shows a metrics port it cannot bind', () => {
  it('up --detach warns with the address and the reason, the app still starts, and /health lists the warning', async () => {
    const metricsPort = await findFreePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(metricsPort, '127.0.0.1', resolve));
    const app = await givenScratchApp((port) => [`metrics: { listen: 127.0.0.1:${metricsPort} }`, sampleAppConfig(port, { replicas: 1 })].join('\n'));
    try {
      // Precondition: the port really is held while the daemon starts.
      assert.equal(holder.listening, true);
      const result = await runCli(['up', '--detach', '-c', app.config, '--data-dir', app.dataDir]);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stderr, new RegExp(`warning: metrics: cannot listen on 127\\.0\\.0\\.1:${metricsPort} \\(.*EADDRINUSE.*\\); /metrics is not served`));
      const health = await app.client.health();
      assert.equal(health.warnings?.length, 1);
      assert.equal((await app.client.status()).apps[0]!.instances.filter((i) => i.state === 'ready').length, 1, 'the app serves all the same');
    } finally {
      holder.close();
      await app.cleanUp();
    }
  });
});
