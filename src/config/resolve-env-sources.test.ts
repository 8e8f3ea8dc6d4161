import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { parseDotenv } from './parse-dotenv.js';

function app(run: string, extra = ''): string {
  return `apps:\n  web:\n    listen: 8080\n    run:\n      command: [node, server.js]\n${run.replace(/^/gm, '      ')}\n${extra}`;
}

describe('values from outside cutover.yaml (issue 22)', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const problemsOf = (config: string, environment: Record<string, string> = {}): string[] => {
    try {
      loadConfig(write('cutover.yaml', config), { environment });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
    }
    return [];
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), 'co-env-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('${NAME} in run.env comes from the environment of the command; $${NAME} stays literal', () => {
    const config = loadConfig(
      write('cutover.yaml', app('env: { DATABASE_URL: "postgres://app:${DB_PASSWORD}@db/app", LITERAL: "$${HOME}" }\nsecrets: [DATABASE_URL]')),
      { environment: { DB_PASSWORD: 's3cret' } },
    );
    const run = config.apps[0]!.run;
    assert.deepEqual(run.env, { DATABASE_URL: 'postgres://app:s3cret@db/app', LITERAL: '${HOME}' });
    assert.deepEqual(run.secrets, ['DATABASE_URL']);
    assert.equal(run.inheritEnv, undefined);
  });

  test('an unset ${NAME} is a problem at its key, naming the variable and not any value', () => {
    assert.deepEqual(problemsOf(app('env: { TOKEN: "${API_TOKEN}" }')), [
      '6:apps.web.run.env.TOKEN: ${API_TOKEN} is not set in the environment of this command',
    ]);
  });

  test('envFile is read relative to the config; its names are secret; inheritEnv is kept sorted', () => {
    write('.env', '# app secrets\nexport STRIPE_KEY=sk_live_123\nSESSION_SECRET="a b\\nc" # comment\n');
    const config = loadConfig(write('cutover.yaml', app('envFile: .env\nenv: { VERSION: "1" }\ninheritEnv: [NODE_OPTIONS, LOGNAME]')), { environment: {} });
    const run = config.apps[0]!.run;
    assert.deepEqual(run.env, { VERSION: '1', STRIPE_KEY: 'sk_live_123', SESSION_SECRET: 'a b\nc' });
    assert.deepEqual(run.secrets, ['SESSION_SECRET', 'STRIPE_KEY']);
    assert.deepEqual(run.inheritEnv, ['LOGNAME', 'NODE_OPTIONS']);
  });

  test('a missing env file, a bad line, a reserved name, a name set twice and an unknown secret are problems that quote no value', () => {
    assert.match(problemsOf(app('envFile: missing.env'))[0]!, /apps\.web\.run\.envFile: cannot read the env file .*missing\.env: it does not exist/);
    write('bad.env', 'GOOD=1\nnot a line with s3cret\nPORT=9\nVERSION=2\n');
    const problems = problemsOf(app('envFile: bad.env\nenv: { VERSION: "1" }\nsecrets: [NOPE]'));
    assert.ok(
      problems.some((p) => /bad\.env:2: expected NAME=value$/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /bad\.env:3: PORT is reserved/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /apps\.web\.run\.env\.VERSION: VERSION is set both here and in .*bad\.env \(line 4\)/.test(p)),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => /apps\.web\.run\.secrets\.0: run\.secrets names NOPE/.test(p)),
      problems.join('\n'),
    );
    assert.ok(problems.every((p) => !p.includes('s3cret')));
  });

  test('a kubernetes app refuses envFile and secrets: the state kept on the cluster would hold them', () => {
    const problems = problemsOf(
      'apps:\n  web:\n    listen: 8081\n    run: { command: [node, server.js], secrets: [A], env: { A: "1" } }\n    runtime:\n      kubernetes: { image: registry.example/api:2.0.0, port: 3000 }\n',
    );
    assert.ok(
      problems.some((p) => /run\.secrets is not supported with the kubernetes runtime/.test(p)),
      problems.join('\n'),
    );
  });

  test('metrics.token takes ${NAME} from the environment', () => {
    const config = loadConfig(write('cutover.yaml', app('env: {}', 'metrics: { token: "${METRICS_TOKEN}" }\n')), {
      environment: { METRICS_TOKEN: 'a-long-metrics-token-123' },
    });
    assert.equal(config.metrics?.token, 'a-long-metrics-token-123');
    assert.ok(problemsOf(app('env: {}', 'metrics: { token: short }\n'))[0]!.includes('at least 16 characters'));
  });
});

describe('parseDotenv', () => {
  test('reads NAME=value lines, export, comments, quotes and escapes; problems name the line only', () => {
    const { entries, problems } = parseDotenv('\uFEFFA=1\n  # note\nexport B = two words # c\nC=\'x # y\'\nD="l1\nl2"\nE=\nF="open\n');
    assert.deepEqual(
      entries.map((e) => [e.name, e.value, e.line]),
      [
        ['A', '1', 1],
        ['B', 'two words', 3],
        ['C', 'x # y', 4],
        ['D', 'l1\nl2', 5],
        ['E', '', 7],
      ],
    );
    assert.deepEqual(problems, [{ line: 8, message: 'the value of F has no closing "' }]);
  });
});
