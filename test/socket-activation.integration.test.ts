import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { externalProgram } from './helpers/external-program.js';
import { repoRoot } from './helpers/repo.js';
import { runCli, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

const activate = externalProgram('systemd-socket-activate', 'systemd');

/** True once something listens on the port (a connection is accepted by the kernel, served or not). */
function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('socket activation (issue 20)', { skip: 'skip' in activate ? activate.skip : false }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-sa-'));
  const configPath = path.join(dir, 'cutover.yaml');
  const dataDir = path.join(dir, 'data');
  const globals = ['-c', configPath, '--data-dir', dataDir];
  let daemon: ChildProcess | undefined;
  after(async () => {
    await runCli(['down', ...globals]).catch(() => undefined);
    daemon?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves on the socket systemd passes (LISTEN_FDS); a request sent before the daemon listens waits instead of being refused', async () => {
    // Given a listening socket made by systemd-socket-activate, passed to cutover up
    const port = await findFreePort();
    fs.writeFileSync(configPath, sampleAppConfig(port, { replicas: 1 }));
    const log = fs.openSync(path.join(dir, 'up.log'), 'a');
    daemon = spawn(
      (activate as { path: string }).path,
      ['-l', `127.0.0.1:${port}`, process.execPath, path.join(repoRoot(), 'bin', 'cutover.js'), 'up', ...globals],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    await waitFor('the socket', () => isListening(port), 30_000);
    // When a request arrives while the daemon is still starting
    const early = fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(120_000) });
    // Then it is answered, not refused: it waited in the backlog until a proxy worker accepted it
    // (503 when no instance is ready yet, as on any first start), and the app serves soon after
    const answer = await early;
    assert.ok([200, 503].includes(answer.status), `answered ${answer.status}`);
    await waitFor('the app serves', async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.status === 200, 60_000);
    const text = fs.readFileSync(path.join(dir, 'up.log'), 'utf8');
    assert.match(text, new RegExp(`listening sockets inherited: 127\\.0\\.0\\.1:${port}`));
    // And a restart hands the same socket on
    const restart = await runCli(['restart', ...globals]);
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
  });
});
