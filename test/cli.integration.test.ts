/* eslint-disable @typescript-eslint/no-explicit-any -- render's YAML is read as untyped JSON */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DaemonFixture, isProcessGroupAlive, runCli, sampleAppConfig } from './helpers/daemon-fixture.js';
import type { AppSpec } from '../src/model/app-spec.js';
import { repoRoot } from './helpers/repo.js';
import { parse as parseYaml } from 'yaml';

describe('cutover CLI without a daemon', () => {
  it('stops quietly with exit 0 when its output pipe closes early (cutover --help | head)', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'cutover.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Close our end before it writes anything, as `head` does once it has its lines.
    child.stdout.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });

  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 3 with a hint when no daemon runs for the data dir', async () => {
    fs.writeFileSync(path.join(dir, 'cutover.yaml'), sampleAppConfig(1));
    const result = await runCli(['status', '-c', path.join(dir, 'cutover.yaml')]);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /cannot reach the cutover daemon/);
    assert.match(result.stderr, /hint: Start it with `cutover up`/);
  });

  it('exits 2 and names file, line and key when the config is invalid', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, sampleAppConfig(1).replace('replicas: 3', 'replicas: -3'));
    const result = await runCli(['deploy', '-c', file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /bad\.yaml:8:\d+/);
    assert.match(result.stderr, /apps\.web\.replicas/);
  });

  it('up --detach exits 2 before starting anything and says who holds the listen port when another process has it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const config = path.join(dir, 'taken.yaml');
    const dataDir = path.join(dir, 'taken-data');
    fs.writeFileSync(config, sampleAppConfig(port, { replicas: 1 }));
    try {
      const up = await runCli(['up', '--detach', '-c', config, '--data-dir', dataDir]);
      assert.equal(up.code, 2, up.stderr);
      assert.match(up.stderr, new RegExp(`app web cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use; ${process.pid} \\(`));
      assert.equal(
        fs.existsSync(path.join(dataDir, 'daemon.pid')) && fs.readFileSync(path.join(dataDir, 'daemon.pid'), 'utf8').trim() !== '',
        false,
        'no daemon started',
      );
    } finally {
      await runCli(['down', '-c', config, '--data-dir', dataDir]);
      blocker.close();
    }
  });

  it('up exits 2 before starting anything when CUTOVER_LOG_MAX_SIZE is not a usable size', async () => {
    const config = path.join(dir, 'logcap.yaml');
    const dataDir = path.join(dir, 'logcap-data');
    fs.writeFileSync(config, sampleAppConfig(1, { replicas: 1 }));
    for (const [value, message] of [
      ['ten megs', /CUTOVER_LOG_MAX_SIZE="ten megs": expected a size such as 16KiB/],
      ['1KiB', /CUTOVER_LOG_MAX_SIZE=1KiB is below the 64KiB minimum/],
    ] as const) {
      const up = await runCli(['up', '--detach', '-c', config, '--data-dir', dataDir], { env: { CUTOVER_LOG_MAX_SIZE: value } });
      assert.equal(up.code, 2, up.stderr);
      assert.match(up.stderr, message);
      assert.equal(fs.existsSync(path.join(dataDir, 'daemon.pid')), false, 'no daemon was started');
    }
  });

  it('render prints the Kubernetes objects of a kubernetes app as YAML documents, and refuses a local app with exit 2', async () => {
    const file = path.join(dir, 'k8s.yaml');
    fs.writeFileSync(
      file,
      [
        'apps:',
        '  web:',
        '    replicas: 2',
        '    runtime: { kubernetes: { namespace: shop, image: registry.example/web:1.4.2, port: 8080 } }',
        '    router: { kubernetes: { service: web, httpRoute: web } }',
        '  local:',
        '    listen: 18081',
        '    run: { command: [node, server.js] }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['render', 'web', '--revision', '3', '-c', file]);
    assert.equal(result.code, 0, result.stderr);
    const documents = result.stdout
      .split(/^---$/m)
      .map((text) => parseYaml(text) as { kind: string; metadata: { name: string; namespace: string }; spec: any });
    assert.deepEqual(
      documents.map((d) => `${d.kind}/${d.metadata.name}`),
      ['ReplicaSet/web-r3', 'Service/web', 'Service/web-r3', 'HTTPRoute/web'],
    );
    assert.ok(documents.every((d) => d.metadata.namespace === 'shop'));
    assert.equal(documents[0]!.spec.replicas, 2);
    assert.equal(documents[0]!.spec.template.spec.containers[0].image, 'registry.example/web:1.4.2');
    assert.deepEqual(documents[3]!.spec.rules, [{ backendRefs: [{ name: 'web-r3', port: 8080, weight: 100 }] }]);

    const local = await runCli(['render', 'local', '-c', file]);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /runs local processes/);
  });

  it('exits 2 for an unknown flag and prints help that lists the commands', async () => {
    const bad = await runCli(['deploy', '--no-such-flag']);
    assert.equal(bad.code, 2);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const command of ['up', 'deploy', 'status', 'history', 'rollback', 'logs', 'down', 'demo']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
  });
});

describe('cutover CLI when the daemon refuses a command', () => {
  // A stand-in daemon on the data dir's socket that refuses every request with the code of the case:
  // the code travels as a plain string, as it does from a daemon (or a cluster peer) of another version.
  let dir: string;
  let server: http.Server;
  let answer: { status: number; code: string };
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-cli-refused-'));
    server = http.createServer((req, res) => {
      const body = JSON.stringify({ code: answer.code, message: `refused with ${answer.code}`, hint: 'a hint from the daemon' });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'cutover.sock'), resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { status: 409, code: 'NOT_PAUSED', exit: 2 },
    { status: 404, code: 'APP_NOT_FOUND', exit: 2 },
    { status: 409, code: 'ROLLOUT_ALREADY_ACTIVE', exit: 1 },
    { status: 409, code: 'APP_DRIVEN_ELSEWHERE', exit: 1 },
    { status: 504, code: 'COMMAND_NOT_ANSWERED', exit: 1 },
    { status: 503, code: 'DAEMON_STOPPING', exit: 3 },
    { status: 500, code: 'STORE_CORRUPT', exit: 4 },
    { status: 500, code: 'INTERNAL', exit: 1 },
    { status: 409, code: 'A_CODE_FROM_A_NEWER_CUTOVER', exit: 1 },
  ];
  for (const { status, code, exit } of cases) {
    it(`exits ${exit} and prints the message and hint when the daemon answers ${code}`, async () => {
      answer = { status, code };
      const result = await runCli(['pause', 'web', '-c', path.join(dir, 'cutover.yaml'), '--data-dir', dir]);
      assert.equal(result.code, exit, result.stderr);
      const report = code === 'INTERNAL' ? 'This is a bug in cutover; please report it with the command you ran.\n' : '';
      assert.equal(result.stderr, `error: refused with ${code}\nhint: a hint from the daemon\n${report}`);
      assert.equal(result.stdout, '');
    });
  }
});

describe('cutover CLI with a daemon', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2 }));
  });
  after(async () => daemon.stop());

  it('refuses a second daemon on the same data dir with a clear message', async () => {
    const second = await daemon.cli(['up', '--detach']);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /a cutover daemon \(pid \d+\) already runs for data dir/);
  });

  it('prints status --json in the documented shape', async () => {
    const result = await daemon.cli(['status', '--json']);
    assert.equal(result.code, 0);
    const status = JSON.parse(result.stdout) as { apps: Record<string, unknown>[] };
    const web = status.apps[0]!;
    assert.deepEqual(Object.keys(web).sort(), ['instances', 'name', 'revision', 'rollout', 'traffic']);
    assert.deepEqual(web.traffic, [{ revision: 1, weight: 100, instances: 2 }]);
    assert.equal(web.name, 'web');
    assert.equal(web.revision, 1);
    const rollout = web.rollout as Record<string, unknown>;
    assert.deepEqual(Object.keys(rollout).sort(), [
      'analysis',
      'fromRevision',
      'gate',
      'id',
      'isPausedByUser',
      'phase',
      'reason',
      'step',
      'stepIndex',
      'steps',
      'strategy',
      'toRevision',
      'warm',
    ]);
    assert.deepEqual([rollout.steps, rollout.stepIndex, rollout.gate, rollout.isPausedByUser, rollout.warm], [[], 0, null, false, null]);
    assert.equal(rollout.phase, 'promoted');
    assert.equal(rollout.strategy, 'rolling');
    const instances = web.instances as Record<string, unknown>[];
    assert.equal(instances.length, 2);
    for (const instance of instances) {
      // lastCheck: the health check's last answer of a live local instance.
      assert.deepEqual(Object.keys(instance).sort(), ['id', 'lastCheck', 'pid', 'port', 'revision', 'state']);
      assert.equal(instance.state, 'ready');
    }
  });

  it('deploys with --json, rolls back to the previous revision, and lists both in history', async () => {
    const deploy = await daemon.cli(['deploy', '--json', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const result = JSON.parse(deploy.stdout) as { results: { app: string; revision: number; phase: string }[] };
    assert.deepEqual(
      result.results.map((r) => [r.app, r.revision, r.phase]),
      [['web', 2, 'promoted']],
    );

    const rollback = await daemon.cli(['rollback', 'web']);
    assert.equal(rollback.code, 0, rollback.stderr);
    const status = await daemon.status();
    assert.equal(status.apps[0]!.revision, 1);
    assert.equal(status.apps[0]!.rollout?.phase, 'rolled-back');

    const history = await daemon.cli(['history', 'web', '--json']);
    const parsed = JSON.parse(history.stdout) as { revisions: { number: number }[]; rollouts: { phase: string }[] };
    assert.deepEqual(
      parsed.revisions.map((r) => r.number),
      [1, 2],
    );
    assert.deepEqual(
      parsed.rollouts.map((r) => r.phase),
      ['rolled-back', 'promoted', 'promoted'],
    );
  });

  it('refuses a deploy while a rollout is active, with exit 1, the running rollout and the way out', async () => {
    // A revision that never becomes ready keeps its rollout progressing for as long as we need.
    const first = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.BROKEN=never-ready', '--set', 'web.health.startupTimeout=60s']);
    assert.equal(first.code, 0, first.stderr);
    const second = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=4']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already has rollout \d+ progressing/);
    assert.match(second.stderr, /cutover rollback web/);

    const rollback = await daemon.cli(['rollback', 'web']);
    assert.equal(rollback.code, 0, rollback.stderr);
    const status = await daemon.status();
    assert.equal(status.apps[0]!.rollout?.phase, 'rolled-back');
    assert.equal(status.apps[0]!.rollout?.reason, 'rollback requested by user');
    assert.equal(status.apps[0]!.revision, 1);
  });

  it('refuses a malformed app spec sent to the admin API, naming what is wrong', async () => {
    await assert.rejects(daemon.client.deploy([{ name: 'web', replicas: 2 } as unknown as AppSpec]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'BAD_REQUEST');
      assert.match(error.message, /invalid app spec: apps\[0\]: listen must be \{ host, port \}/);
      return true;
    });
  });

  it('aborts an active rollout on down, stops every instance, and keeps the stable revision', async () => {
    const started = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.BROKEN=never-ready', '--set', 'web.health.startupTimeout=60s']);
    assert.equal(started.code, 0, started.stderr);
    const pids = (await daemon.status()).apps[0]!.instances.map((i) => i.pid!).filter(Boolean);
    const down = await daemon.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    for (const pid of pids) assert.equal(isProcessGroupAlive(pid), false, `instance ${pid} outlived down`);
    const again = await daemon.cli(['status']);
    assert.equal(again.code, 3, 'the daemon is gone');
    const history = await runCli(['up', '--detach', '-c', daemon.configPath, '--data-dir', daemon.dataDir]);
    assert.equal(history.code, 0, history.stderr);
    const status = await daemon.status();
    assert.equal(status.apps[0]!.revision, 1);
    const rollouts = (await daemon.client.history('web')).rollouts;
    assert.equal(rollouts.find((r) => r.reason === 'the daemon was stopped during the rollout')?.phase, 'aborted');
  });

  it('prints instance logs of an app, filtered by revision', async () => {
    const logs = await daemon.cli(['logs', 'web', '--revision', '1']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /web-1-[0-9a-f]+ v1 \(revision 1\) listening on \d+/);
    assert.doesNotMatch(logs.stdout, /revision 2\)/);
  });
});
