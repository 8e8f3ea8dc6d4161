import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../errors.js';
import type { AppSpec } from '../model/app-spec.js';
import { ConfigError } from './config-error.js';
import { resolveBlueGreen, resolveCanary } from './resolve-config.js';
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_LISTEN_HOST,
  DEFAULT_MAX_SURGE,
  DEFAULT_MAX_UNAVAILABLE,
  DEFAULT_MIN_READY_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  DEFAULT_REPLICAS,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  MAX_CONFIG_BYTES,
} from './defaults.js';
import { loadConfig, parseConfig } from './load-config.js';

const CONFIG_PATH = '/srv/shop/cutover.yaml';

const EXAMPLE = `apps:
  web:
    listen: 127.0.0.1:8080
    run:
      command: [node, server.js]
      shell: false
      cwd: ./app
      env: { VERSION: "1" }
    replicas: 3
    health: { path: /healthz, interval: 1s, timeout: 1s, healthyThreshold: 1, unhealthyThreshold: 3, startupTimeout: 60s }
    drainTimeout: 30s
    stopTimeout: 10s
    strategy:
      rolling: { maxSurge: 1, maxUnavailable: 0, minReady: 0s, progressDeadline: 10m }
`;

function minimal(extra = '', listen = '8080'): string {
  return `apps:\n  web:\n    listen: ${listen}\n    run:\n      command: [node, server.js]\n${extra}`;
}

function onlyApp(text: string): AppSpec {
  const [app, ...rest] = parseConfig(text, CONFIG_PATH).apps;
  assert.ok(app);
  assert.equal(rest.length, 0);
  return app;
}

function problemsOf(text: string, path = 'cutover.yaml'): ConfigError {
  try {
    parseConfig(text, path);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('parseConfig did not throw');
}

describe('parseConfig', () => {
  it('resolves the documented example to an AppSpec with durations in ms and an absolute cwd', () => {
    const config = parseConfig(EXAMPLE, CONFIG_PATH);
    assert.equal(config.path, CONFIG_PATH);
    assert.deepEqual(config.apps, [
      {
        name: 'web',
        listen: { host: '127.0.0.1', port: 8080 },
        run: { command: ['node', 'server.js'], shell: false, cwd: '/srv/shop/app', env: { VERSION: '1' } },
        replicas: 3,
        health: { path: '/healthz', intervalMs: 1_000, timeoutMs: 1_000, healthyThreshold: 1, unhealthyThreshold: 3, startupTimeoutMs: 60_000 },
        drainTimeoutMs: 30_000,
        stopTimeoutMs: 10_000,
        strategy: {
          use: 'rolling',
          rolling: { maxSurge: 1, maxUnavailable: 0, minReadyMs: 0, progressDeadlineMs: 600_000, analysis: null },
          blueGreen: resolveBlueGreen(),
          canary: resolveCanary(),
        },
        hooks: { preDeploy: [], preTraffic: [], postTraffic: [], onSuccess: [], onFailure: [] },
        analysis: {},
        router: { kind: 'builtin' },
      },
    ]);
  });

  it('fills every optional key with its named default', () => {
    assert.deepEqual(onlyApp(minimal()), {
      name: 'web',
      listen: { host: DEFAULT_LISTEN_HOST, port: 8080 },
      run: { command: ['node', 'server.js'], shell: false, cwd: '/srv/shop', env: {} },
      replicas: DEFAULT_REPLICAS,
      health: {
        path: DEFAULT_HEALTH_PATH,
        intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
        timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS,
        healthyThreshold: DEFAULT_HEALTHY_THRESHOLD,
        unhealthyThreshold: DEFAULT_UNHEALTHY_THRESHOLD,
        startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
      },
      drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
      stopTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
      strategy: {
        use: 'rolling',
        rolling: {
          maxSurge: DEFAULT_MAX_SURGE,
          maxUnavailable: DEFAULT_MAX_UNAVAILABLE,
          minReadyMs: DEFAULT_MIN_READY_MS,
          progressDeadlineMs: DEFAULT_PROGRESS_DEADLINE_MS,
          analysis: null,
        },
        blueGreen: {
          preview: { header: { name: 'x-cutover-preview', value: '1' }, listen: null },
          autoPromoteMs: null,
          scaleDownDelayMs: 30_000,
          abortScaleDownDelayMs: 30_000,
          previewReplicas: null,
          progressDeadlineMs: DEFAULT_PROGRESS_DEADLINE_MS,
          prePromotionAnalysis: null,
          postPromotionAnalysis: null,
        },
        canary: {
          steps: [{ setWeight: 20 }, { pause: null }],
          canaryReplicas: 'auto',
          sticky: null,
          routes: [],
          mirror: { percent: 0 },
          abortScaleDownDelayMs: 30_000,
          progressDeadlineMs: DEFAULT_PROGRESS_DEADLINE_MS,
          analysis: null,
        },
      },
      hooks: { preDeploy: [], preTraffic: [], postTraffic: [], onSuccess: [], onFailure: [] },
      analysis: {},
      router: { kind: 'builtin' },
    });
  });

  it('resolves analysis templates with their defaults, and the places that use them', () => {
    const app = onlyApp(
      minimal(
        [
          '    analysis:',
          '      error-rate: { provider: builtin, metric: successRate, successCondition: ">= 0.99", interval: 2s, count: 3, minRequests: 20, baseline: { maxRatio: 1.5 } }',
          '      latency: { provider: prometheus, address: "http://127.0.0.1:9090", query: "up", successCondition: "< 0.3" }',
          '    strategy:',
          '      canary:',
          '        steps: [{ setWeight: 20 }, { analysis: { templates: [error-rate] } }]',
          '        analysis: { templates: [latency], startingStep: 1 }',
        ].join('\n') + '\n',
      ),
    );
    assert.deepEqual(app.analysis?.['error-rate'], {
      name: 'error-rate',
      provider: 'builtin',
      metric: 'successRate',
      address: null,
      query: null,
      command: null,
      url: null,
      jsonPath: null,
      successCondition: '>= 0.99',
      failureCondition: null,
      intervalMs: 2_000,
      count: 3,
      failureLimit: 0,
      consecutiveErrorLimit: 4,
      inconclusiveLimit: 0,
      minRequests: 20,
      baseline: { maxRatio: 1.5 },
    });
    assert.equal(app.analysis?.['latency']?.intervalMs, 10_000);
    assert.deepEqual(app.strategy.canary?.steps[1], { analysis: { templates: ['error-rate'] } });
    assert.deepEqual(app.strategy.canary?.analysis, { templates: ['latency'], startingStep: 1 });
  });

  it('resolves hooks: commands split, cwd absolute, the timeout in ms, http defaults filled in', () => {
    const { hooks } = onlyApp(
      minimal(
        [
          '    hooks:',
          '      preDeploy: [{ command: "npm run migrate", timeout: 5m, cwd: db }]',
          '      preTraffic: [{ command: [./smoke.sh, "${PREVIEW_URL}"], idempotent: true }]',
          '      postTraffic: [{ command: "./check.sh && echo ok", shell: true }]',
          '      onSuccess: [{ http: { url: "http://127.0.0.1:9000/deployed" } }]',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(hooks?.preDeploy, [
      { action: { kind: 'command', command: ['npm', 'run', 'migrate'], shell: false, cwd: '/srv/shop/db' }, timeoutMs: 300_000, isIdempotent: false },
    ]);
    assert.deepEqual(hooks?.preTraffic, [
      {
        action: { kind: 'command', command: ['./smoke.sh', '${PREVIEW_URL}'], shell: false, cwd: '/srv/shop' },
        timeoutMs: DEFAULT_HOOK_TIMEOUT_MS,
        isIdempotent: true,
      },
    ]);
    assert.deepEqual(hooks?.postTraffic[0]?.action, { kind: 'command', command: ['./check.sh && echo ok'], shell: true, cwd: '/srv/shop' });
    assert.deepEqual(hooks?.onSuccess[0]?.action, { kind: 'http', url: 'http://127.0.0.1:9000/deployed', method: 'POST', headers: {}, body: null });
    assert.deepEqual(hooks?.onFailure, []);
  });

  it('gives every app the top-level router unless it names its own; builtin when none is named', () => {
    const text = [
      'router:',
      '  haproxy: { mode: external, socket: run/admin.sock }',
      'apps:',
      '  web: { listen: 8080, run: { command: [node, server.js] } }',
      '  api: { listen: 8081, run: { command: [node, server.js] }, router: { builtin: {} } }',
      '  admin: { listen: 8082, run: { command: [node, server.js] }, router: { haproxy: { backend: be_admin, servers: 4 } } }',
    ].join('\n');
    const [web, api, admin] = parseConfig(text, '/srv/shop/cutover.yaml').apps;
    assert.deepEqual(web?.router, {
      kind: 'haproxy',
      mode: 'external',
      socket: '/srv/shop/run/admin.sock',
      backend: 'cutover_web',
      servers: 16,
      binary: 'haproxy',
    });
    assert.deepEqual(api?.router, { kind: 'builtin' });
    assert.deepEqual(admin?.router, { kind: 'haproxy', mode: 'managed', socket: null, backend: 'be_admin', servers: 4, binary: 'haproxy' });
  });

  it('resolves blue-green and canary blocks, and picks the strategy that is named', () => {
    const blueGreen = onlyApp(
      minimal('    replicas: 3\n    strategy:\n      blueGreen: { preview: { listen: 8081 }, autoPromote: 10s, scaleDownDelay: 1m, previewReplicas: 2 }\n'),
    );
    assert.equal(blueGreen.strategy.use, 'blue-green');
    assert.deepEqual(blueGreen.strategy.blueGreen?.preview, { header: null, listen: { host: DEFAULT_LISTEN_HOST, port: 8081 } });
    assert.deepEqual(
      [blueGreen.strategy.blueGreen?.autoPromoteMs, blueGreen.strategy.blueGreen?.scaleDownDelayMs, blueGreen.strategy.blueGreen?.previewReplicas],
      [10_000, 60_000, 2],
    );
    const canary = onlyApp(
      minimal(
        [
          '    strategy:',
          '      canary:',
          '        steps: [{ setWeight: 10 }, { pause: 30s }, { setCanaryScale: 50% }, { pause: {} }]',
          '        canaryReplicas: 2',
          '        sticky: { cookie: side }',
          '        routes: [{ header: { name: x-beta, value: "1" } }, { cookie: { name: beta, value: "yes" } }]',
          '        mirror: { percent: 5 }',
          '',
        ].join('\n'),
      ),
    );
    assert.equal(canary.strategy.use, 'canary');
    assert.deepEqual(canary.strategy.canary?.steps, [{ setWeight: 10 }, { pause: 30_000 }, { setCanaryScale: '50%' }, { pause: null }]);
    assert.deepEqual(canary.strategy.canary?.sticky, { cookie: 'side', ttlMs: 3_600_000 });
    assert.equal(canary.strategy.canary?.routes.length, 2);
    assert.deepEqual([canary.strategy.canary?.canaryReplicas, canary.strategy.canary?.mirror.percent], [2, 5]);
  });

  it('has the documented default values', () => {
    assert.equal(DEFAULT_REPLICAS, 1);
    assert.equal(DEFAULT_DRAIN_TIMEOUT_MS, 30_000);
    assert.equal(DEFAULT_STOP_TIMEOUT_MS, 10_000);
    assert.deepEqual(
      [
        DEFAULT_HEALTH_INTERVAL_MS,
        DEFAULT_HEALTH_TIMEOUT_MS,
        DEFAULT_HEALTHY_THRESHOLD,
        DEFAULT_UNHEALTHY_THRESHOLD,
        DEFAULT_STARTUP_TIMEOUT_MS,
        DEFAULT_HEALTH_PATH,
      ],
      [1_000, 1_000, 1, 3, 60_000, '/'],
    );
    assert.deepEqual([DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE, DEFAULT_MIN_READY_MS, DEFAULT_PROGRESS_DEADLINE_MS], [1, 0, 0, 600_000]);
  });

  it('defaults the strategy to rolling when strategy or rolling is given empty', () => {
    assert.equal(onlyApp(minimal('    strategy: {}\n')).strategy.rolling.maxSurge, DEFAULT_MAX_SURGE);
    assert.equal(onlyApp(minimal('    strategy: { rolling: {} }\n')).strategy.rolling.maxSurge, DEFAULT_MAX_SURGE);
  });

  it('keeps percentages of maxSurge and maxUnavailable as written', () => {
    const { rolling } = onlyApp(minimal('    strategy: { rolling: { maxSurge: "25%", maxUnavailable: 10% } }\n')).strategy;
    assert.equal(rolling.maxSurge, '25%');
    assert.equal(rolling.maxUnavailable, '10%');
  });

  it('resolves cwd against the config file directory, and keeps an absolute cwd', () => {
    assert.equal(onlyApp(minimal('      cwd: ../other\n')).run.cwd, '/srv/other');
    assert.equal(onlyApp(minimal('      cwd: /opt/app\n')).run.cwd, '/opt/app');
  });

  it('turns env numbers and booleans into strings exactly as written', () => {
    const { env } = onlyApp(minimal('      env: { VERSION: 1.10, WORKERS: 4, DEBUG: true, NAME: web }\n')).run;
    assert.deepEqual(env, { VERSION: '1.10', WORKERS: '4', DEBUG: 'true', NAME: 'web' });
  });

  it('turns numbers in a command list into arguments as written', () => {
    const app = onlyApp('apps:\n  web:\n    listen: 8080\n    run: { command: [sleep, 1.50] }\n');
    assert.deepEqual(app.run.command, ['sleep', '1.50']);
  });

  it('splits a command string and keeps ${PORT} for spawn time', () => {
    const app = onlyApp('apps:\n  web:\n    listen: 8080\n    run: { command: "node server.js --port $PORT" }\n');
    assert.deepEqual(app.run.command, ['node', 'server.js', '--port', '${PORT}']);
  });

  it('keeps a shell command as one string when shell is true', () => {
    const app = onlyApp('apps:\n  web:\n    listen: 8080\n    run: { command: "node a.js | tee a.log", shell: true }\n');
    assert.deepEqual(app.run.command, ['node a.js | tee a.log']);
    assert.equal(app.run.shell, true);
  });

  it('keeps apps in the order of the file', () => {
    const config = parseConfig(`${minimal()}  api:\n    listen: 8081\n    run: { command: [node, api.js] }\n`, CONFIG_PATH);
    assert.deepEqual(
      config.apps.map((app) => app.name),
      ['web', 'api'],
    );
  });

  it('accepts a health timeout longer than the interval', () => {
    assert.equal(onlyApp(minimal('    health: { interval: 1s, timeout: 5s }\n')).health.timeoutMs, 5_000);
  });

  it('accepts a leading --- and a trailing empty document', () => {
    assert.equal(onlyApp(`---\n${minimal()}---\n`).name, 'web');
  });

  it('accepts a few YAML aliases', () => {
    const app = onlyApp('apps:\n  web:\n    listen: 8080\n    run:\n      command: &cmd [node, server.js]\n      env: { A: &v x, B: *v }\n');
    assert.deepEqual(app.run.env, { A: 'x', B: 'x' });
  });
});

describe('ConfigError', () => {
  it('is an InputError with the code CONFIG_INVALID', () => {
    const error = problemsOf('apps:\n  web:\n    listen: 8080\n    run: { command: [node] }\n    replicas: -2\n');
    assert.ok(error instanceof InputError);
    assert.equal(error.code, 'CONFIG_INVALID');
  });

  it('lists each problem as FILE:LINE:COL  path: message, with its hint on the next line', () => {
    const error = problemsOf('apps:\n  web:\n    listen: 8080\n    run: { command: [node] }\n    replicas: -2\n    drainTimeout: 10\n');
    assert.equal(
      error.message,
      [
        'cutover.yaml:5:15  apps.web.replicas: expected an integer ≥ 1, got -2',
        'cutover.yaml:6:19  apps.web.drainTimeout: expected a duration such as 30s or 500ms, got 10',
        '  hint: write 30s or 500ms',
      ].join('\n'),
    );
    assert.deepEqual(error.problems[0], { file: 'cutover.yaml', line: 5, column: 15, path: 'apps.web.replicas', message: 'expected an integer ≥ 1, got -2' });
  });

  it('collects every problem in the file, ordered by line', () => {
    const error = problemsOf(
      [
        'apps:',
        '  web:',
        '    listen: 127.0.0.1:99999',
        '    run: { command: "a | b" }',
        '    replicas: 0',
        '    health: { path: healthz, interval: 5 minutes }',
        '    colour: blue',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      error.problems.map((problem) => [problem.line, problem.path]),
      [
        [3, 'apps.web.listen'],
        [4, 'apps.web.run.command'],
        [5, 'apps.web.replicas'],
        [6, 'apps.web.health.path'],
        [6, 'apps.web.health.interval'],
        [7, 'apps.web.colour'],
      ],
    );
  });

  it('points a missing key at the mapping that should hold it', () => {
    const error = problemsOf('apps:\n  web:\n    replicas: 2\n');
    assert.deepEqual(
      error.problems.map((problem) => [problem.line, problem.column, problem.path]),
      [
        [2, 3, 'apps.web.listen'],
        [2, 3, 'apps.web.run'],
      ],
    );
    assert.match(error.problems[0]?.message ?? '', /missing required key "listen"/);
  });

  it('suggests the closest allowed key for an unknown key', () => {
    const problem = problemsOf(minimal('    replica: 2\n')).problems[0];
    assert.equal(problem?.path, 'apps.web.replica');
    assert.match(problem?.hint ?? '', /did you mean "replicas"\?/);
  });

  it('rejects a health timeout longer than the startup timeout, even when the timeout is the default', () => {
    assert.equal(problemsOf(minimal('    health: { timeout: 90s }\n')).problems[0]?.path, 'apps.web.health.timeout');
    assert.equal(problemsOf(minimal('    health: { startupTimeout: 500ms }\n')).problems[0]?.path, 'apps.web.health.startupTimeout');
  });

  it('rejects maxSurge 0 when maxUnavailable is left at its default of 0', () => {
    const problem = problemsOf(minimal('    strategy: { rolling: { maxSurge: 0 } }\n')).problems[0];
    assert.equal(problem?.path, 'apps.web.strategy.rolling');
    assert.match(problem?.hint ?? '', /maxSurge: 1/);
  });

  it('treats 0.0.0.0 as taking the port on every address', () => {
    const text = `${minimal('', '0.0.0.0:8080')}  api:\n    listen: 127.0.0.1:8080\n    run: { command: [node, api.js] }\n`;
    const problem = problemsOf(text).problems[0];
    assert.equal(problem?.path, 'apps.api.listen');
    assert.match(problem?.message ?? '', /"web".*"api".*port 8080/);
  });

  it('refuses text over 1 MiB before parsing it', () => {
    const error = problemsOf(`# ${'x'.repeat(MAX_CONFIG_BYTES)}\n${minimal()}`);
    assert.match(error.problems[0]?.message ?? '', /limit is 1 MiB/);
  });
});

describe('loadConfig', () => {
  it('reads the file and resolves cwd against its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-spec-'));
    try {
      const file = join(dir, 'cutover.yaml');
      writeFileSync(file, minimal('      cwd: app\n'));
      const config = loadConfig(file);
      assert.equal(config.path, file);
      assert.equal(config.apps[0]?.run.cwd, join(dir, 'app'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws a ConfigError naming the file when it cannot be read', () => {
    const missing = join(tmpdir(), 'cutover-spec-does-not-exist.yaml');
    assert.throws(
      () => loadConfig(missing),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems[0]?.file, missing);
        assert.match(error.message, /does not exist/);
        return true;
      },
    );
  });
});

describe('kubernetes runtime and router', () => {
  it('resolves runtime.kubernetes with an absolute podTemplate and router.kubernetes with the app name as default Service', () => {
    const [app] = parseConfig(
      `apps:
  web:
    listen: 8080
    run: { command: [node, server.js] }
    runtime:
      kubernetes: { namespace: shop, image: registry.example/web:1.4.2, port: 8080, podTemplate: ./k8s/web-pod.yaml }
    router:
      kubernetes: {}
`,
      CONFIG_PATH,
    ).apps;
    assert.deepEqual(app?.runtime, {
      kind: 'kubernetes',
      context: null,
      namespace: 'shop',
      image: 'registry.example/web:1.4.2',
      port: 8080,
      podTemplate: '/srv/shop/k8s/web-pod.yaml',
    });
    assert.deepEqual(app?.router, { kind: 'kubernetes', service: 'web', httpRoute: null });
  });

  it('leaves runtime out for a local app so that its spec hash does not change', () => {
    const [app] = parseConfig('apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js] }\n', CONFIG_PATH).apps;
    assert.equal(app !== undefined && 'runtime' in app, false);
  });
});

describe('container runtime (issue 18)', () => {
  it('resolves runtime.container with its defaults, volumes made absolute, and no run.command needed', () => {
    const [app] = parseConfig(
      `apps:
  web:
    listen: 8080
    runtime:
      container: { image: localhost/web:2026-12-06, volumes: ["./data:/data", "cache:/cache:ro"], args: ["--memory=256m"] }
    run: { env: { NODE_ENV: production } }
`,
      CONFIG_PATH,
    ).apps;
    assert.deepEqual(app?.runtime, {
      kind: 'container',
      engine: 'auto',
      image: 'localhost/web:2026-12-06',
      resolved: null,
      port: null,
      network: 'host',
      volumes: ['/srv/shop/data:/data', 'cache:/cache:ro'],
      args: ['--memory=256m'],
    });
    assert.deepEqual(app?.run.command, []);
  });

  it('says what is wrong with a container block, where', () => {
    const cases: [string, RegExp][] = [
      ['{ image: localhost/web:1, network: bridge }', /bridge networking needs the port/],
      ['{ image: localhost/web:1, port: 3000 }', /with host networking the app listens on \$PORT/],
      ['{ image: localhost/web:1, engine: containerd }', /engine/],
      ['{ image: "-v/:/host", network: host }', /not an image reference/],
      ['{ image: localhost/web:1, volumes: ["data"] }', /not a volume/],
      ['{ image: localhost/web:1, args: ["alpine"] }', /not an engine option/],
    ];
    for (const [block, message] of cases) {
      const error = problemsOf(`apps:\n  web:\n    listen: 8080\n    runtime:\n      container: ${block}\n`);
      assert.match(error.message, message, block);
    }
  });

  it('still requires run.command of a local app', () => {
    assert.match(problemsOf('apps:\n  web:\n    listen: 8080\n    run: { env: { A: "1" } }\n').message, /missing required key "command"/);
  });
});

describe('metrics: false (issue 21)', () => {
  it('is accepted and means no /metrics, as listen: false does', () => {
    const app = 'apps:\n  web:\n    listen: 8080\n    run: { command: [node, server.js] }\n';
    assert.equal(parseConfig(`metrics: false\n${app}`, CONFIG_PATH).metrics?.listen, null);
    assert.equal(parseConfig(`metrics: { listen: false }\n${app}`, CONFIG_PATH).metrics?.listen, null);
    assert.deepEqual(parseConfig(app, CONFIG_PATH).metrics?.listen, { host: '127.0.0.1', port: 9464 });
  });
});
