import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LoadClient } from '../src/loadgen/load-client.js';
import type { DeployReport } from '../src/protocol/deploy-report.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { prometheusSkip, TestPrometheus } from './helpers/prometheus.js';

/** The sample app with analysis templates (YAML under `analysis:`) and a canary that runs them. */
function analysisConfig(port: number, options: { templates: string[]; steps: string; metricsListen?: string; background?: string }): string {
  return [
    `metrics: { listen: ${options.metricsListen ?? 'false'} }`,
    sampleAppConfig(port, {
      replicas: 2,
      strategy: [
        `canary:`,
        `        steps: ${options.steps}`,
        ...(options.background ? [`        analysis: ${options.background}`] : []),
        '        abortScaleDownDelay: 0s',
      ].join('\n'),
      extra: ['    analysis:', ...options.templates.map((t) => `      ${t}`)].join('\n'),
    }),
  ].join('\n');
}

async function deploy(daemon: DaemonFixture, env: Record<string, string>): Promise<{ code: number; stdout: string; rolloutId: number }> {
  const result = await daemon.cli(['deploy', ...Object.entries(env).flatMap(([k, v]) => ['--set', `web.run.env.${k}=${v}`])]);
  const id = /rollout (\d+)/.exec(result.stdout)?.[1];
  assert.ok(id, `no rollout in: ${result.stdout}\n${result.stderr}\n${daemon.logTail()}`);
  return { code: result.code, stdout: result.stdout, rolloutId: Number(id) };
}

async function deployDetached(daemon: DaemonFixture, env: Record<string, string>): Promise<number> {
  const result = await daemon.cli(['deploy', '--detach', ...Object.entries(env).flatMap(([k, v]) => ['--set', `web.run.env.${k}=${v}`])]);
  assert.equal(result.code, 0, result.stderr);
  return Number(/rollout (\d+)/.exec(result.stdout)![1]);
}

async function report(daemon: DaemonFixture, rolloutId: number): Promise<DeployReport> {
  const result = await daemon.cli(['report', 'web', String(rolloutId), '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as DeployReport;
}

async function rollBackAndSettle(daemon: DaemonFixture): Promise<void> {
  const result = await daemon.cli(['rollback', 'web']);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  await waitFor(
    'the rollback to finish',
    async () => {
      const rollout = (await daemon.status()).apps[0]!.rollout;
      return rollout?.phase === 'rolled-back' || rollout?.phase === 'failed';
    },
    30_000,
  );
}

function steadyLoad(daemon: DaemonFixture): LoadClient {
  const load = new LoadClient({ origin: daemon.origin, clients: 6, postShare: 0.2, pauseMs: 2, maxDurationMs: 240_000 });
  load.start();
  return load;
}

describe('metric analysis on the proxy’s own counts (builtin)', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) =>
      analysisConfig(port, {
        templates: ['error-rate: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 1s, count: 2, minRequests: 20 }'],
        steps: '[{ setWeight: 50 }, { analysis: { templates: [error-rate] } }]',
      }),
    );
  });
  after(async () => daemon?.stop());

  it('a canary answering 20% errors fails its analysis and is rolled back by itself, with 0 failed requests and the reason stored', async () => {
    // Given steady traffic, when a canary that fails one request in five is deployed,
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '2', ERROR_RATE: '0.2' });
    const figures = await load.stop();
    // then the deploy ends rolled back (exit 1) and says why,
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.equal(rollout.phase, 'rolled-back');
    assert.match(rollout.reason ?? '', /^analysis error-rate failed: revision 2 success rate 0\.\d+ over \d+ requests < 0\.95/);
    // every measurement is stored with its value, window and sample size,
    assert.ok(rollout.measurements.length >= 1);
    const decisive = rollout.measurements.at(-1)!;
    assert.equal(decisive.result, 'failed');
    assert.equal(decisive.windowMs, 1000);
    assert.ok((decisive.sampleSize ?? 0) >= 20 && (decisive.value ?? 1) < 0.95, JSON.stringify(decisive));
    // the report printed by deploy explains it, and no request failed (the app's own 500s aside).
    assert.match(result.stdout, /deploy report: web rollout \d+ \(canary, revision 1 → 2\): rolled-back/);
    assert.match(result.stdout, /failed requests caused by the deploy: 0 \(on the stable side: 0\)/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
    assert.ok(figures.injectedErrors > 0);
    const stored = await report(daemon, result.rolloutId);
    assert.equal(stored.failedByDeploy, 0);
    assert.equal(stored.failedOnStable, 0);
    assert.ok(stored.newRevisionApp5xx > 0);
    assert.deepEqual(
      stored.phases.map((p) => p.phase),
      ['before', 'during', 'after'],
    );
    assert.equal(stored.analysis[0]?.result, 'failed');
    const history = await daemon.cli(['history', 'web']);
    assert.match(history.stdout, /analysis error-rate failed/);
  });

  it('a canary as good as stable passes a baseline comparison and is promoted', async () => {
    daemon.writeConfig(
      analysisConfig(daemon.port, {
        templates: ['versus-stable: { provider: builtin, metric: errorRate, baseline: { maxRatio: 1.5 }, interval: 1s, count: 2, minRequests: 50 }'],
        steps: '[{ setWeight: 50 }, { analysis: { templates: [versus-stable] } }]',
      }),
    );
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '3' });
    const figures = await load.stop();
    assert.equal(result.code, 0, `${result.stdout}\n${daemon.logTail()}`);
    assert.match(result.stdout, /analysis versus-stable \(step@1\): successful/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('a canary clearly worse than stable fails the baseline comparison as significant', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '4', ERROR_RATE: '0.3' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.match(rollout.reason ?? '', /analysis versus-stable failed: .*worse than 1\.5× stable, significant/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('a background analysis catches a canary going bad during a timed pause and rolls it back', async () => {
    daemon.writeConfig(
      analysisConfig(daemon.port, {
        templates: ['watch: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 1s, minRequests: 20 }'],
        steps: '[{ setWeight: 50 }, { pause: 10m }]',
        background: '{ templates: [watch], startingStep: 1 }',
      }),
    );
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '7', ERROR_RATE: '0.2' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.match(rollout.reason ?? '', /^analysis watch failed: revision \d+ success rate 0\.\d+ over \d+ requests < 0\.95/);
    assert.equal(rollout.analysisRuns[0]?.pointKey, 'background');
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('with too little traffic the analysis is inconclusive: the rollout pauses and says why', async () => {
    daemon.writeConfig(
      analysisConfig(daemon.port, {
        templates: ['busy: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 500ms, count: 1, minRequests: 1000000 }'],
        steps: '[{ setWeight: 50 }, { analysis: { templates: [busy] } }]',
      }),
    );
    await deployDetached(daemon, { VERSION: '5' });
    await waitFor('the rollout to pause', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'paused', 30_000);
    const rollout = (await daemon.status()).apps[0]!.rollout!;
    assert.match(
      rollout.reason ?? '',
      /^analysis busy was inconclusive: revision \d+ success rate .* over \d+ requests?: fewer than minRequests 1,000,000, too few to judge/,
    );
    assert.equal(rollout.analysis[0]?.state, 'inconclusive');
    const status = await daemon.cli(['status']);
    assert.match(status.stdout, /analysis busy \(step@1\): inconclusive/);
    await rollBackAndSettle(daemon);
  });

  it('a provider that cannot be reached makes the run inconclusive after consecutiveErrorLimit errors', async () => {
    const refused = await findFreePort();
    daemon.writeConfig(
      analysisConfig(daemon.port, {
        templates: [
          `down: { provider: prometheus, address: "http://127.0.0.1:${refused}", query: "up", successCondition: ">= 1", interval: 200ms, count: 5, consecutiveErrorLimit: 1 }`,
        ],
        steps: '[{ setWeight: 50 }, { analysis: { templates: [down] } }]',
      }),
    );
    await deployDetached(daemon, { VERSION: '6' });
    await waitFor('the rollout to pause', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'paused', 30_000);
    const rollout = (await daemon.status()).apps[0]!.rollout!;
    assert.match(rollout.reason ?? '', /^analysis down was inconclusive: .*unreachable.*\(2 errors in a row, more than consecutiveErrorLimit 1\)/);
    await rollBackAndSettle(daemon);
  });
});

describe('rolling analysis after each batch', () => {
  const config = (port: number): string =>
    [
      'metrics: { listen: false }',
      sampleAppConfig(port, {
        replicas: 3,
        rolling: '{ maxSurge: 1, maxUnavailable: 0, analysis: { templates: [errors] } }',
        extra: [
          '    analysis:',
          '      errors: { provider: builtin, metric: successRate, successCondition: ">= 0.95", interval: 1s, count: 2, minRequests: 10 }',
        ].join('\n'),
      }),
    ].join('\n');
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start(config);
  });
  after(async () => daemon?.stop());

  it('a good revision passes the analysis of every batch (1 new, 2 new, all new) and is promoted', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '2' });
    const figures = await load.stop();
    assert.equal(result.code, 0, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.deepEqual(
      rollout.analysisRuns.map((r) => [r.pointKey, r.state]),
      [
        ['batch@1', 'successful'],
        ['batch@2', 'successful'],
        ['rolling', 'successful'],
      ],
      `${result.stdout}\n${daemon.logTail(80)}`,
    );
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('a revision failing the analysis of its first batch is rolled back before a second new instance starts', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '3', ERROR_RATE: '0.3' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.equal(rollout.phase, 'rolled-back');
    assert.match(rollout.reason ?? '', /^analysis errors failed: revision 3 success rate 0\.\d+ over \d+ requests < 0\.95/);
    assert.deepEqual(
      rollout.analysisRuns.map((r) => [r.pointKey, r.state]),
      [['batch@1', 'failed']],
    );
    const { events } = await daemon.client.events({ rolloutId: result.rolloutId });
    const started = events.filter((e) => e.kind === 'instance-starting' && /revision 3\b/.test(e.message));
    assert.equal(started.length, 1, started.map((e) => e.message).join('\n'));
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
    assert.equal((await daemon.status()).apps[0]!.revision, 2);
  });
});

describe('metric analysis with a real Prometheus scraping cutover’s /metrics', { skip: prometheusSkip }, () => {
  let daemon: DaemonFixture;
  let prometheus: TestPrometheus;
  let metricsPort = 0;
  const query =
    'sum(rate(cutover_requests_total{app="{{app}}",revision="{{revision}}",code_class="5xx"}[5s])) / sum(rate(cutover_requests_total{app="{{app}}",revision="{{revision}}"}[5s]))';
  const config = (port: number, address: string): string =>
    analysisConfig(port, {
      metricsListen: `127.0.0.1:${metricsPort}`,
      templates: [
        `errors: { provider: prometheus, address: "${address}", query: ${JSON.stringify(query)}, successCondition: "< 0.05", interval: 2s, count: 3, inconclusiveLimit: 4 }`,
      ],
      steps: '[{ setWeight: 50 }, { analysis: { templates: [errors] } }]',
    });

  before(async () => {
    metricsPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => config(port, 'http://127.0.0.1:9'));
    prometheus = await TestPrometheus.start(path.join(daemon.dir, 'prometheus'), [`127.0.0.1:${metricsPort}`]);
    daemon.writeConfig(config(daemon.port, prometheus.address));
    await waitFor('Prometheus to scrape cutover', async () => (await prometheus.query('up{job="cutover"}')) === 1, 30_000);
  });
  after(async () => {
    await prometheus?.stop();
    await daemon?.stop();
  });

  it('/metrics serves the documented metric names', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (const name of [
      'cutover_requests_total',
      'cutover_request_duration_seconds_bucket',
      'cutover_upstream_errors_total',
      'cutover_rollout_info',
      'cutover_rollout_weight',
      'cutover_analysis_runs_total',
      'cutover_instances',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} `, 'm'), name);
    }
    assert.match(text, /^cutover_instances\{app="web",revision="1",state="ready"\} 2$/m);
  });

  it('drives a healthy canary to promotion on a PromQL error ratio', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '2' });
    const figures = await load.stop();
    assert.equal(result.code, 0, `${result.stdout}\n${daemon.logTail()}`);
    assert.match(result.stdout, /analysis errors \(step@1\): successful/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('drives a canary answering 30% errors to a rollback on the same query', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '3', ERROR_RATE: '0.3' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.match(rollout.reason ?? '', /^analysis errors failed: prometheus query 0\.\d+ >= 0\.05/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^cutover_analysis_runs_total\{app="web",template="errors",result="failed"\} 1$/m);
  });
});

describe('blue-green analysis before and after the switch (command and http providers)', () => {
  let daemon: DaemonFixture;
  let scoreServer: http.Server;
  let score = 1;
  let scorePort = 0;
  const config = (port: number, pre: string, post: string): string =>
    [
      'metrics: { listen: false }',
      sampleAppConfig(port, {
        replicas: 2,
        strategy: `blueGreen: { autoPromote: 0s, scaleDownDelay: 30s, abortScaleDownDelay: 0s, prePromotionAnalysis: { templates: [${pre}] }, postPromotionAnalysis: { templates: [${post}] } }`,
        extra: [
          '    analysis:',
          `      smoke: { provider: command, command: [${JSON.stringify(process.execPath)}, -e, "process.exit(process.env.CUTOVER_REVISION === '3' ? 1 : 0)"], interval: 200ms }`,
          `      score: { provider: http, url: "http://127.0.0.1:${scorePort}/score?revision={{revision}}", jsonPath: data.value, successCondition: ">= 0.8", interval: 300ms, count: 2 }`,
        ].join('\n'),
      }),
    ].join('\n');

  before(async () => {
    scoreServer = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { value: score } })));
    await new Promise<void>((resolve) => scoreServer.listen(0, '127.0.0.1', resolve));
    scorePort = (scoreServer.address() as AddressInfo).port;
    daemon = await DaemonFixture.start((port) => config(port, 'smoke', 'score'));
  });
  after(async () => {
    await daemon?.stop();
    await new Promise((resolve) => scoreServer?.close(resolve));
  });

  it('green that passes its pre- and post-promotion analysis is promoted', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '2' });
    const figures = await load.stop();
    assert.equal(result.code, 0, `${result.stdout}\n${daemon.logTail()}`);
    assert.match(result.stdout, /analysis smoke \(prePromotion\): successful/);
    assert.match(result.stdout, /analysis score \(postPromotion\): successful/);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('green whose prePromotionAnalysis command fails is rolled back before it takes traffic', async () => {
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '3' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.match(rollout.reason ?? '', /^analysis smoke failed: command .* exit code 1 != 0/);
    assert.equal(figures.byRevision['3'], undefined, 'green took real traffic');
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });

  it('a postPromotionAnalysis score below its bound rolls back to the warm blue', async () => {
    score = 0.5;
    const load = steadyLoad(daemon);
    const result = await deploy(daemon, { VERSION: '4' });
    const figures = await load.stop();
    assert.equal(result.code, 1, `${result.stdout}\n${daemon.logTail()}`);
    const rollout = await daemon.client.rollout(result.rolloutId);
    assert.match(rollout.reason ?? '', /^analysis score failed: GET .* 0\.5 < 0\.8/);
    assert.equal((await daemon.status()).apps[0]!.revision, 2);
    assert.equal(figures.failed, 0, JSON.stringify(figures.failures));
  });
});
