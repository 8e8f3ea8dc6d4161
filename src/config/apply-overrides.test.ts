import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOverride } from './apply-overrides.js';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';

const TEXT = 'apps:\n  web:\n    listen: 8080\n    run:\n      command: [node, server.js]\n      env: { VERSION: "1" }\n';

function withOverrides(...overrides: string[]) {
  const app = parseConfig(TEXT, 'cutover.yaml', { overrides }).apps[0];
  assert.ok(app);
  return app;
}

function rejection(...overrides: string[]): ConfigError {
  try {
    parseConfig(TEXT, 'cutover.yaml', { overrides });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error;
  }
  assert.fail('parseConfig did not throw');
}

describe('parseOverride', () => {
  it('splits KEY=VALUE at the first = into a key path and YAML text', () => {
    assert.deepEqual(parseOverride('web.run.env.QUERY=a=b'), { key: ['web', 'run', 'env', 'QUERY'], value: 'a=b' });
  });
});

describe('--set overrides', () => {
  it('sets a key relative to apps, reading the value as YAML', () => {
    assert.equal(withOverrides('web.replicas=5').replicas, 5);
    assert.deepEqual(withOverrides('web.run.command=[node, other.js]').run.command, ['node', 'other.js']);
    assert.deepEqual(withOverrides('web.health={path: /ready, interval: 2s}').health.intervalMs, 2_000);
  });

  it('replaces an existing env value and keeps a quoted or numeric value as text', () => {
    assert.equal(withOverrides('web.run.env.VERSION="2"').run.env['VERSION'], '2');
    assert.equal(withOverrides('web.run.env.VERSION=1.10').run.env['VERSION'], '1.10');
  });

  it('creates the mappings on the way to a new key', () => {
    const app = withOverrides('web.strategy.rolling.maxSurge=25%', 'web.health.path=/ready');
    assert.equal(app.strategy.rolling.maxSurge, '25%');
    assert.equal(app.health.path, '/ready');
  });

  it('applies overrides in order, the last one winning', () => {
    assert.equal(withOverrides('web.replicas=2', 'web.replicas=4').replicas, 4);
  });

  it('reports a bad overridden value at the override, with line 0 and a message naming --set', () => {
    const error = rejection('web.replicas=-1');
    assert.deepEqual(error.problems, [
      {
        file: '--set web.replicas=-1',
        line: 0,
        column: 0,
        path: 'apps.web.replicas',
        message: 'expected an integer ≥ 1, got -1 (from --set)',
      },
    ]);
    assert.equal(error.message, '--set web.replicas=-1  apps.web.replicas: expected an integer ≥ 1, got -1 (from --set)');
  });

  it('reports an unknown key and a new app created by an override at the override', () => {
    assert.equal(rejection('web.replica=2').problems[0]?.file, '--set web.replica=2');
    const newApp = rejection('api.replicas=2').problems;
    assert.ok(newApp.length > 0);
    assert.ok(
      newApp.every((problem) => problem.file === '--set api.replicas=2' && problem.line === 0),
      JSON.stringify(newApp),
    );
  });

  it('keeps an environment value a string whatever it looks like (issue 21)', () => {
    assert.deepEqual(withOverrides('web.run.env.GREETING=a: b', 'web.run.env.FLAG=true', 'web.run.env.CODE=010').run.env, {
      VERSION: '1',
      GREETING: 'a: b',
      FLAG: 'true',
      CODE: '010',
    });
  });

  it('says there is no such app when --set names one the config lacks (issue 21)', () => {
    const problem = rejection('api.run.env.X=1').problems[0];
    assert.equal(problem?.message, 'there is no app named "api" in the config (from --set)');
    assert.equal(problem?.hint, 'apps in the config: web');
  });

  it('rejects an override without = or with an empty key', () => {
    for (const override of ['web.replicas', '=5', 'web..replicas=5', '.replicas=5']) {
      const problem = rejection(override).problems[0];
      assert.equal(problem?.file, `--set ${override}`);
      assert.match(problem?.message ?? '', /--set/);
      assert.match(problem?.hint ?? '', /KEY=VALUE/);
    }
  });

  it('explains that keys are relative to apps when one starts with apps.', () => {
    const problem = rejection('apps.web.replicas=3').problems[0];
    assert.equal(problem?.hint, 'write --set web.replicas=3');
  });

  it('rejects a value that is not valid YAML, and a key below a single value', () => {
    assert.match(rejection('web.run.command=[node, a.js').problems[0]?.message ?? '', /not valid YAML/);
    assert.match(rejection('web.listen.port=80').problems[0]?.message ?? '', /apps\.web\.listen is a single value/);
  });

  it('reports problems in the file and in overrides together', () => {
    try {
      parseConfig(`${TEXT}    replicas: 0\n`, 'cutover.yaml', { overrides: ['web.stopTimeout=10'] });
      assert.fail('parseConfig did not throw');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems.map((problem) => problem.path).sort(), ['apps.web.replicas', 'apps.web.stopTimeout']);
    }
  });
});
