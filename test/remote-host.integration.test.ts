import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import type { DeployResult } from '../src/protocol/deploy-result.js';
import type { DeployReport } from '../src/protocol/deploy-report.js';
import type { StatusReport } from '../src/protocol/status.js';
import { parseSshHost } from '../src/cli/remote/ssh-host.js';
import { uploadOverSsh } from '../src/cli/remote/ssh-upload.js';
import { SSH_CONFIG_ENV } from '../src/cli/remote/ssh-transport.js';
import { DaemonFixture, runCli, sampleAppConfig } from './helpers/daemon-fixture.js';
import { startSshServer, type SshServer } from './helpers/ssh-server.js';
import { repoRoot } from './helpers/repo.js';

// Issue 24, part 3: `cutover --host ssh://USER@HOST[:PORT][/DIR] COMMAND` against a daemon on
// "another machine": Debian's sshd on 127.0.0.1 with keys of its own, running this worktree's CLI.

describe('cutover --host over SSH (issue 24)', () => {
  let daemon: DaemonFixture;
  let ssh: SshServer | { skip: string };
  let host = '';
  let env: NodeJS.ProcessEnv = {};
  let scratch = '';

  before(async () => {
    ssh = await startSshServer();
    if ('skip' in ssh) return;
    daemon = await DaemonFixture.start((port) => ['metrics: { listen: false }', sampleAppConfig(port, { replicas: 1 })].join('\n'));
    // The server's cutover finds the daemon as for any config dir: DIR/.cutover (here a link to the fixture's data dir).
    fs.symlinkSync(daemon.dataDir, path.join(daemon.dir, '.cutover'));
    host = `ssh://${ssh.user}@127.0.0.1:${ssh.port}${daemon.dir}`;
    env = { [SSH_CONFIG_ENV]: ssh.clientConfig };
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'remote-'));
  });
  after(async () => {
    await daemon?.stop();
    if (ssh && !('skip' in ssh)) await ssh.close();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('status --json over --host answers what the daemon answers locally', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    const remote = await runCli(['--host', host, 'status', '--json'], { env });
    assert.equal(remote.code, 0, remote.stderr);
    const local = await daemon.cli(['status', '--json']);
    const strip = (report: StatusReport): unknown => report.apps.map((a) => ({ name: a.name, stable: a.revision, instances: a.instances.map((i) => i.id) }));
    assert.deepEqual(strip(JSON.parse(remote.stdout) as StatusReport), strip(JSON.parse(local.stdout) as StatusReport));
  });

  it('deploy sends the specs of the local config (CUTOVER_HOST), waits, and exits 0 with the same JSON as locally', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    // Given a config on "the CI machine" that differs from the server's,
    const localConfig = path.join(scratch, 'cutover.yaml');
    fs.writeFileSync(localConfig, fs.readFileSync(daemon.configPath, 'utf8').replace('"VERSION":"1"', '"VERSION":"2"'));
    assert.notEqual(fs.readFileSync(localConfig, 'utf8'), fs.readFileSync(daemon.configPath, 'utf8'), 'the local config changes the version');
    // when it is deployed over SSH,
    const deploy = await runCli(['deploy', '-c', localConfig, '--json'], { env: { ...env, CUTOVER_HOST: host } });
    // then the server's daemon rolled out revision 2 from it.
    assert.equal(deploy.code, 0, deploy.stderr);
    const { results } = JSON.parse(deploy.stdout) as { results: (DeployResult & { phase: string; report: DeployReport | null })[] };
    assert.equal(results[0]?.app, 'web', deploy.stdout);
    assert.equal(results[0]?.phase, 'promoted', deploy.stdout);
    assert.equal(results[0]?.report?.toRevision, 2, 'the report came through the tunnel too');
    const status = await daemon.status();
    assert.equal(status.apps[0]?.revision, 2);
    const history = await daemon.client.history('web');
    assert.equal(history.revisions.find((r) => r.number === 2)?.env.VERSION, '2');
  });

  it('exits with the same codes as locally: 2 for a refused command, 3 for no daemon in DIR', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    const local = await daemon.cli(['promote', 'web']);
    const remote = await runCli(['--host', host, 'promote', 'web'], { env });
    assert.equal(local.code, 2, local.stderr);
    assert.equal(remote.code, local.code, remote.stderr);
    fs.mkdirSync(path.join(scratch, 'empty'));
    const nowhere = host.replace(daemon.dir, path.join(scratch, 'empty'));
    const unreachable = await runCli(['--host', nowhere, 'status', '--json'], { env });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot reach the cutover daemon/);
    assert.equal(unreachable.stdout, '');
    const noSsh = await runCli(['--host', host.replace(`:${(ssh as SshServer).port}`, ':1'), 'status'], { env });
    assert.equal(noSsh.code, 3, noSsh.stderr);
    assert.match(noSsh.stderr, /cannot reach the cutover daemon at ssh:\/\//);
  });

  it('refuses a host string that smuggles ssh options or shell words, and runs nothing', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    const marker = path.join(scratch, 'pwned');
    for (const bad of [
      `ssh://-oProxyCommand=touch\${IFS}${marker}@127.0.0.1`,
      `ssh://root@-oProxyCommand=touch\${IFS}${marker}`,
      `ssh://root@127.0.0.1/tmp/$(touch ${marker})`,
      `ssh://root@127.0.0.1/tmp;touch${marker}`,
    ]) {
      const byFlag = await runCli(['--host', bad, 'status'], { env });
      assert.equal(byFlag.code, 2, `${bad}: ${byFlag.stderr}`);
      assert.match(byFlag.stderr, /HOST|--host/);
      const byEnv = await runCli(['status'], { env: { ...env, CUTOVER_HOST: bad } });
      assert.equal(byEnv.code, 2, `${bad}: ${byEnv.stderr}`);
    }
    assert.equal(fs.existsSync(marker), false, 'no command ran');
  });

  it('uploads a directory into a private directory under the remote data dir, byte for byte', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    const release = path.join(scratch, 'release-7');
    fs.mkdirSync(path.join(release, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(release, 'server.js'), 'console.log("hi")\n');
    fs.writeFileSync(path.join(release, 'lib', 'data.bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251)));
    const previous = process.env[SSH_CONFIG_ENV];
    process.env[SSH_CONFIG_ENV] = (ssh as SshServer).clientConfig;
    let remotePath: string;
    try {
      remotePath = await uploadOverSsh(parseSshHost(host), release);
    } finally {
      if (previous === undefined) delete process.env[SSH_CONFIG_ENV];
      else process.env[SSH_CONFIG_ENV] = previous;
    }
    assert.equal(path.basename(remotePath), 'release-7');
    assert.equal(path.dirname(path.dirname(remotePath)), path.join(daemon.dir, '.cutover', 'uploads'));
    assert.equal(fs.statSync(path.dirname(remotePath)).mode & 0o777, 0o700, 'a private directory');
    assert.equal(fs.readFileSync(path.join(remotePath, 'server.js'), 'utf8'), 'console.log("hi")\n');
    assert.deepEqual(fs.readFileSync(path.join(remotePath, 'lib', 'data.bin')), fs.readFileSync(path.join(release, 'lib', 'data.bin')));
  });

  it('deploy --from over --host uploads the release built here and the server runs exactly it', async (t) => {
    if ('skip' in ssh) return t.skip(ssh.skip);
    // Given a release built on "the CI machine", different from what release.from holds,
    const writeApp = (dir: string, answer: string): void => {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'server.js'),
        `require('node:http').createServer((q, s) => s.end(${JSON.stringify(answer)})).listen(Number(process.env.PORT), '127.0.0.1');\n`,
      );
    };
    writeApp(path.join(scratch, 'app'), 'from the config\n');
    writeApp(path.join(scratch, 'built'), 'from the pipeline\n');
    const localConfig = path.join(scratch, 'release.yaml');
    fs.writeFileSync(
      localConfig,
      [
        'metrics: { listen: false }',
        'apps:',
        '  web:',
        `    listen: 127.0.0.1:${daemon.port}`,
        '    release: { from: ./app }',
        `    run: { command: [${JSON.stringify(process.execPath)}, server.js] }`,
        '    health: { path: /, interval: 100ms, timeout: 1s, startupTimeout: 10s }',
        '    drainTimeout: 2s',
      ].join('\n'),
    );
    // when it is deployed with --from over SSH,
    const deploy = await runCli(['deploy', '-c', localConfig, '--from', path.join(scratch, 'built'), '--json'], { env: { ...env, CUTOVER_HOST: host } });
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}\n${daemon.logTail()}`);
    // then the upload went to the server's private uploads, and the server serves exactly those files.
    assert.ok(fs.readdirSync(path.join(daemon.dir, '.cutover', 'uploads')).length > 0, 'an upload on the server');
    const answer = await (await fetch(daemon.origin)).text();
    assert.equal(answer, 'from the pipeline\n');
    const history = await daemon.client.history('web');
    const latest = history.revisions.at(-1);
    assert.match(latest?.release?.source ?? '', /uploads\/upload-[^/]+\/built/, JSON.stringify(latest?.release));
  });

  it('receive-upload refuses a tar whose entries climb out of its directory, and leaves nothing', async () => {
    const dataDir = path.join(scratch || fs.mkdtempSync(path.join(os.tmpdir(), 'remote-')), 'upload-data');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const inner = path.join(dataDir, '..', 'inner');
    fs.mkdirSync(inner, { recursive: true });
    fs.writeFileSync(path.join(dataDir, '..', 'evil.txt'), 'evil');
    const chunks: Buffer[] = [];
    for await (const chunk of tar.c({ cwd: inner, preservePaths: true }, ['../evil.txt'])) chunks.push(chunk as Buffer);
    const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), 'receive-upload', '--data-dir', dataDir], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stdin.end(Buffer.concat(chunks));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.deepEqual(fs.readdirSync(path.join(dataDir, 'uploads')), [], 'the failed upload left nothing');
  });
});
