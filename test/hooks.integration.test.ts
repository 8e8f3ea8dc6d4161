/**
 * Lifecycle hooks, end to end: every hook point with a succeeding, a failing and a hanging
 * command, under a steady load that must see no failed request; an HTTP hook against a local
 * server; PREVIEW_URL reaching the new revision before it takes traffic. The hook is
 * test/fixtures/hooks/hook.mjs, told what to do by HOOK_<point> in the app's env.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import type { HookPoint } from '../src/model/app-spec.js';
import { givenDaemon, sampleAppConfig, waitFor, type CliResult, type DaemonFixture } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';
import { isAlive } from '../src/daemon/daemon-lock.js';

const HOOK = path.join(repoRoot(), 'test', 'fixtures', 'hooks', 'hook.mjs');
const POINTS: HookPoint[] = ['preDeploy', 'preTraffic', 'postTraffic', 'onSuccess', 'onFailure'];

interface HookRecord {
  point: HookPoint;
  mode: string;
  pid: number;
  childPid?: number;
  previewArg: string;
  env: Record<string, string | null>;
  cwd: string;
  previewRevision: string | null;
  appRevisions: (string | null)[];
}

interface Deploy {
  version: number;
  modes?: Partial<Record<HookPoint, 'ok' | 'fail' | 'hang'>>;
  /** The timeout of the hooks told to hang (the others get 30s). */
  timeout?: string;
}

/** Given an app whose every hook point runs hook.mjs (and onSuccess also calls an HTTP server). */
class HookedApp {
  readonly recordFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'co-hooks-')), 'hooks.jsonl');
  httpPort = 0;
  readonly httpCalls: { method: string; url: string; body: string }[] = [];
  private server: http.Server | null = null;

  /** @param strategy the strategy block's content, read when a config is written. */
  constructor(
    private readonly strategy: () => string,
    private readonly replicas = 2,
  ) {}

  async startHttp(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.httpCalls.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.httpPort = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
    // Anything a hook left behind would be a bug; kill only the pids our hooks reported, if any.
    for (const pid of this.hookPids()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(path.dirname(this.recordFile), { recursive: true, force: true });
  }

  config(port: number, deploy: Deploy): string {
    const modes = Object.fromEntries(Object.entries(deploy.modes ?? {}).map(([point, mode]) => [`HOOK_${point}`, mode]));
    const hooks = POINTS.map((point) => {
      const timeout = deploy.modes?.[point] === 'hang' ? (deploy.timeout ?? '1s') : '30s';
      const command = `{ command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(HOOK)}, "\${PREVIEW_URL}"], timeout: ${timeout} }`;
      const http = point === 'onSuccess' ? `, { http: { url: "http://127.0.0.1:${this.httpPort}/deployed/\${CUTOVER_APP}" }, timeout: 10s }` : '';
      return `      ${point}: [${command}${http}]`;
    });
    return sampleAppConfig(port, {
      replicas: this.replicas,
      env: { VERSION: String(deploy.version), HOOK_RECORD: this.recordFile, APP_ORIGIN: `http://127.0.0.1:${port}`, ...modes },
      strategy: this.strategy(),
      extra: ['    hooks:', ...hooks].join('\n'),
    });
  }

  async deploy(daemon: DaemonFixture, deploy: Deploy, args: string[] = []): Promise<{ result: CliResult; rolloutId: number; runs: HookRecord[] }> {
    daemon.writeConfig(this.config(daemon.port, deploy));
    const result = await daemon.cli(['deploy', ...args]);
    const rolloutId = Number(/\(rollout (\d+)\)/.exec(result.stdout)?.[1]);
    assert.ok(rolloutId > 0, `${result.stdout}\n${result.stderr}`);
    return { result, rolloutId, runs: this.records().filter((r) => r.env['CUTOVER_ROLLOUT_ID'] === String(rolloutId)) };
  }

  records(): HookRecord[] {
    if (!fs.existsSync(this.recordFile)) return [];
    return fs
      .readFileSync(this.recordFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as HookRecord);
  }

  hookPids(): number[] {
    return this.records().flatMap((r) => (r.childPid ? [r.pid, r.childPid] : [r.pid]));
  }
}

function assertNoneLeft(runs: HookRecord[]): void {
  for (const run of runs) {
    assert.equal(isAlive(run.pid), false, `${run.point} hook process ${run.pid} is gone`);
    if (run.childPid) assert.equal(isAlive(run.childPid), false, `the child ${run.childPid} of the ${run.point} hook is gone with its group`);
  }
}

const output = (result: CliResult): string => `${result.stdout}\n${result.stderr}`;

/**
 * A steady load on the app from the start of the describe block; call the returned function
 * last in the block: it adds the test that none of its requests failed.
 */
function underLoad(daemon: () => DaemonFixture): () => void {
  let load: LoadClient | null = null;
  before(() => {
    load = new LoadClient({ origin: daemon().origin, clients: 4, postShare: 0.25, pauseMs: 5 });
    load.start();
  });
  after(async () => void (await load?.stop()));
  return () =>
    it('served every request of the load through all these deploys', async () => {
      const report = await load!.stop();
      load = null;
      assert.ok(report.requests > 0);
      assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
    });
}

describe('hooks of a rolling app, under load', () => {
  const app = new HookedApp(() => 'rolling: { maxSurge: 1, maxUnavailable: 0 }', 1);
  before(() => app.startHttp());
  after(() => app.close());
  const daemon = givenDaemon((port) => app.config(port, { version: 1 }));
  const thenNoRequestFailed = underLoad(daemon);
  let stable = 1;

  it("runs each point once, in order, with the rollout in its environment, in the config file's directory", async () => {
    const { result, rolloutId, runs } = await app.deploy(daemon(), { version: 2 });
    assert.equal(result.code, 0, output(result));
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'preTraffic', 'postTraffic', 'onSuccess'],
    );
    const [preDeploy, preTraffic, postTraffic, onSuccess] = runs;
    assert.deepEqual(preTraffic!.env, {
      CUTOVER_APP: 'web',
      CUTOVER_REVISION: '2',
      CUTOVER_FROM_REVISION: '1',
      CUTOVER_STRATEGY: 'rolling',
      CUTOVER_PHASE: 'preTraffic',
      CUTOVER_ROLLOUT_ID: String(rolloutId),
      CUTOVER_ROLLOUT_PHASE: 'progressing',
      PREVIEW_URL: preTraffic!.previewArg,
    });
    assert.equal(preDeploy!.env['PREVIEW_URL'], null, 'no new instance before preDeploy');
    assert.equal(preTraffic!.previewRevision, '2', '${PREVIEW_URL} reaches the new revision');
    assert.deepEqual(preTraffic!.appRevisions, ['1'], 'real traffic stays on the old revision until preTraffic passed');
    assert.equal(postTraffic!.previewRevision, '2');
    assert.equal(onSuccess!.env['CUTOVER_ROLLOUT_PHASE'], 'promoted');
    assert.equal(fs.realpathSync(preDeploy!.cwd), fs.realpathSync(daemon().dir));
    assert.match(result.stdout, /onSuccess hook 2\/2 passed/, 'deploy waits for the onSuccess hooks and prints them');
    stable = 2;
  });

  it('calls an HTTP hook with a JSON summary of the rollout', () => {
    const call = app.httpCalls.find((c) => JSON.parse(c.body || '{}').revision === 2);
    assert.ok(call, JSON.stringify(app.httpCalls));
    assert.equal(call.method, 'POST');
    assert.equal(call.url, '/deployed/web');
    assert.deepEqual(JSON.parse(call.body), {
      app: 'web',
      rolloutId: JSON.parse(call.body).rolloutId,
      revision: 2,
      fromRevision: 1,
      strategy: 'rolling',
      hook: 'onSuccess',
      phase: 'promoted',
      reason: null,
      previewUrl: JSON.parse(call.body).previewUrl,
    });
  });

  it("a failing preDeploy hook: nothing starts, deploy exits 1 with the hook's output, onFailure runs", async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 3, modes: { preDeploy: 'fail' } });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rollout \d+ failed: preDeploy hook .* exited with code 1 .*: smoke check of preDeploy failed on purpose; nothing was started/);
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'onFailure'],
    );
    const status = (await daemon().status()).apps[0]!;
    assert.equal(status.revision, stable);
    assert.equal(status.instances.filter((i) => i.revision === 3).length, 0, 'no instance of the new revision started');
    const history = await daemon().cli(['history', 'web']);
    assert.match(history.stdout, /smoke check of preDeploy failed on purpose/);
  });

  it('a hanging preDeploy hook is killed with its whole process group at its timeout', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 4, modes: { preDeploy: 'hang' }, timeout: '1s' });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /preDeploy hook .* timed out after 1\.0s; its process group was killed/);
    assertNoneLeft(runs);
  });

  it('a failing preTraffic hook rolls back before the new revision took traffic; a failing onFailure hook is only logged', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 5, modes: { preTraffic: 'fail', onFailure: 'fail' } });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rolled-back: preTraffic hook .*: smoke check of preTraffic failed on purpose/);
    assert.match(result.stdout, /onFailure hook failed \(logged only\)/);
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'preTraffic', 'onFailure'],
    );
    assert.deepEqual(runs[1]!.appRevisions, [String(stable)]);
    assert.equal(runs[2]!.env['CUTOVER_ROLLOUT_PHASE'], 'rolled-back');
    assert.equal((await daemon().status()).apps[0]!.revision, stable);
  });

  it('a hanging preTraffic hook times out and rolls back, leaving no process', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 6, modes: { preTraffic: 'hang' }, timeout: '1s' });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rolled-back: preTraffic hook .* timed out/);
    assertNoneLeft(runs);
  });

  it('a failing postTraffic hook rolls back after the new revision took the traffic', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 7, modes: { postTraffic: 'fail' } });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rolled-back: postTraffic hook .*: smoke check of postTraffic failed on purpose/);
    assert.equal(runs.find((r) => r.point === 'postTraffic')?.previewRevision, '7');
    const status = (await daemon().status()).apps[0]!;
    assert.equal(status.revision, stable);
    assert.deepEqual([...new Set(status.instances.filter((i) => i.state === 'ready').map((i) => i.revision))], [stable]);
  });

  it('a hanging postTraffic hook rolls back; a hanging onFailure hook is killed and logged', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 8, modes: { postTraffic: 'hang', onFailure: 'hang' }, timeout: '1s' });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rolled-back: postTraffic hook .* timed out/);
    assert.match(result.stdout, /onFailure hook failed \(logged only\): timed out/);
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'preTraffic', 'postTraffic', 'onFailure'],
    );
    assertNoneLeft(runs);
  });

  it('a failing onSuccess hook is logged; the rollout stays promoted', async () => {
    const { result } = await app.deploy(daemon(), { version: 9, modes: { onSuccess: 'fail' } });
    assert.equal(result.code, 0, output(result));
    assert.match(result.stdout, /onSuccess hook 1\/2 failed \(logged only\)/);
    assert.match(result.stdout, /rollout \d+ promoted/);
    stable = 9;
  });

  it('a hanging onSuccess hook is killed at its timeout; the rollout stays promoted', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 10, modes: { onSuccess: 'hang' }, timeout: '1s' });
    assert.equal(result.code, 0, output(result));
    assert.match(result.stdout, /onSuccess hook 1\/2 failed \(logged only\): timed out/);
    assertNoneLeft(runs);
    stable = 10;
  });

  it('deploy --skip-hooks preDeploy skips that point and records it in the history', async () => {
    const { result, rolloutId, runs } = await app.deploy(daemon(), { version: 11, modes: { preDeploy: 'fail' } }, ['--skip-hooks', 'preDeploy']);
    assert.equal(result.code, 0, output(result));
    assert.match(result.stdout, /hooks skipped by --skip-hooks: preDeploy/);
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preTraffic', 'postTraffic', 'onSuccess'],
    );
    const history = await daemon().cli(['history', 'web', '--json']);
    const rollout = (JSON.parse(history.stdout) as { rollouts: { id: number; skippedHooks: string[] }[] }).rollouts.find((r) => r.id === rolloutId);
    assert.deepEqual(rollout?.skippedHooks, ['preDeploy']);
    assert.match((await daemon().cli(['history', 'web'])).stdout, /hooks skipped: preDeploy/);
    stable = 11;
    const bad = await daemon().cli(['deploy', '--skip-hooks', 'preDeplo']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /names no hook point/);
  });

  it("a controller killed during a hook that is not idempotent: the hook's group is killed, the rollout pauses and says so", async () => {
    daemon().writeConfig(app.config(daemon().port, { version: 12, modes: { preTraffic: 'hang' }, timeout: '10m' }));
    const deploy = await daemon().cli(['deploy', '--detach']);
    assert.equal(deploy.code, 0, output(deploy));
    const rolloutId = Number(/\(rollout (\d+)\)/.exec(deploy.stdout)?.[1]);
    const running = (): HookRecord | undefined => app.records().find((r) => r.point === 'preTraffic' && r.env['CUTOVER_ROLLOUT_ID'] === String(rolloutId));
    await waitFor('the preTraffic hook to run', () => running() !== undefined, 20_000);
    await daemon().killController();
    await waitFor('the rollout to wait for a person', async () => (await daemon().client.rollout(rolloutId)).gate !== null, 20_000);
    const rollout = await daemon().client.rollout(rolloutId);
    assert.equal(rollout.phase, 'paused');
    assert.match(rollout.gate ?? '', /preTraffic hook .* was interrupted by a controller restart: check what it did, then run cutover resume web/);
    assert.deepEqual(
      rollout.hookRuns.filter((r) => r.point === 'preTraffic').map((r) => r.state),
      ['interrupted'],
    );
    await waitFor("the interrupted hook's processes to be gone", () => !isAlive(running()!.pid) && !isAlive(running()!.childPid!));
    const { events } = await daemon().client.events({ rolloutId });
    assert.ok(events.some((e) => e.kind === 'hook-interrupted' && /cutover resume web/.test(e.message)));

    const rollback = await daemon().cli(['rollback', 'web']);
    assert.equal(rollback.code, 0, output(rollback));
    assert.equal((await daemon().status()).apps[0]!.revision, stable);
  });

  it('left no hook process behind', () => {
    assertNoneLeft(app.records());
  });

  thenNoRequestFailed();
});

describe('hooks of a blue-green app with a preview listener, under load', () => {
  let previewPort = 0;
  const app = new HookedApp(() => `blueGreen: { preview: { listen: 127.0.0.1:${previewPort} }, autoPromote: 0s, scaleDownDelay: 0s }`);
  before(async () => {
    previewPort = await findFreePort();
    await app.startHttp();
  });
  after(() => app.close());
  const daemon = givenDaemon((port) => app.config(port, { version: 1 }));
  const thenNoRequestFailed = underLoad(daemon);

  it('PREVIEW_URL is the preview listener, answered by green while blue serves; postTraffic runs after the switch', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 2 });
    assert.equal(result.code, 0, output(result));
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'preTraffic', 'postTraffic', 'onSuccess'],
    );
    assert.equal(runs[1]!.previewArg, `http://127.0.0.1:${previewPort}`);
    assert.equal(runs[1]!.previewRevision, '2');
    assert.deepEqual(runs[1]!.appRevisions, ['1']);
    assert.equal(runs[1]!.env['CUTOVER_STRATEGY'], 'blue-green');
  });

  it('a failing preTraffic hook: no switch, blue keeps all traffic', async () => {
    const { result } = await app.deploy(daemon(), { version: 3, modes: { preTraffic: 'fail' } });
    assert.equal(result.code, 1, output(result));
    assert.match(result.stdout, /rolled-back: preTraffic hook/);
    assert.equal((await daemon().status()).apps[0]!.revision, 2);
  });

  thenNoRequestFailed();
});

describe('hooks of a canary app, under load', () => {
  const app = new HookedApp(() => 'canary: { steps: [{ setWeight: 50 }], abortScaleDownDelay: 0s }');
  before(() => app.startHttp());
  after(() => app.close());
  const daemon = givenDaemon((port) => app.config(port, { version: 1 }));
  const thenNoRequestFailed = underLoad(daemon);

  it('runs preTraffic before the first weight, against the canary itself, and postTraffic after each traffic change', async () => {
    const { result, runs } = await app.deploy(daemon(), { version: 2 });
    assert.equal(result.code, 0, output(result));
    assert.deepEqual(
      runs.map((r) => r.point),
      ['preDeploy', 'preTraffic', 'postTraffic', 'postTraffic', 'onSuccess'],
    );
    assert.equal(runs[1]!.previewRevision, '2', 'PREVIEW_URL is a canary instance');
    assert.deepEqual(runs[1]!.appRevisions, ['1'], 'the canary has no share before preTraffic passed');
    assert.equal(runs[1]!.env['CUTOVER_STRATEGY'], 'canary');
  });

  thenNoRequestFailed();
});
