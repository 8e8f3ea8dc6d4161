/**
 * Issue 22: secrets stay secret, and text from apps and hooks cannot drive the terminal.
 * Given an app with a value from `${DB_PASSWORD}` (the deploying command's environment) listed
 * in run.secrets and one from an env file, deployed by `cutover up` and `cutover deploy`, with a
 * hook and an app log line that print the secret and terminal escape sequences:
 * - the app gets its values, and nothing of the daemon's environment but the clean set;
 * - no command output, API route, event stream or daemon log line holds a secret value;
 * - every human-readable output shows control characters written out; JSON keeps them exact.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_PREFIX, API_ROUTES } from '../src/api/routes.js';
import { DaemonFixture, type CliResult } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

const DB_PASSWORD = 'pw-from-the-pipeline-5c1d';
const DATABASE_URL = `postgres://app:${DB_PASSWORD}@db/app`;
const STRIPE_KEY = 'sk_live_from_the_env_file_9f8e';
const SHELL_SECRET = 'from-the-shell-of-cutover-up-77';
const SECRETS = [DB_PASSWORD, STRIPE_KEY];
const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'apps');
/** What a terminal would act on: ESC, BEL and the other controls but tab and newline. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point.
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function config(port: number): string {
  return [
    'apps:',
    '  web:',
    `    listen: 127.0.0.1:${port}`,
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, env-app.mjs]`,
    `      cwd: ${JSON.stringify(FIXTURES)}`,
    '      envFile: secrets.env',
    '      env: { DATABASE_URL: "postgres://app:${DB_PASSWORD}@db/app", VERSION: "1" }',
    '      secrets: [DATABASE_URL]',
    '      inheritEnv: [KEPT_FOR_THE_APP]',
    '    replicas: 1',
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
    '    drainTimeout: 2s',
    '    hooks:',
    `      onSuccess: [{ command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(FIXTURES, 'noisy-hook.mjs'))}] }]`,
    '',
  ].join('\n');
}

function apiGet(socketPath: string, urlPath: string, headers: Record<string, string> = {}, readForMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
      if (readForMs !== undefined) setTimeout(() => (req.destroy(), resolve(body)), readForMs);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('secrets and terminal escapes (issue 22)', () => {
  let daemon: DaemonFixture;
  const outputs = new Map<string, string>();
  const record = (name: string, result: CliResult): CliResult => {
    outputs.set(name, result.stdout + result.stderr);
    return result;
  };

  before(async () => {
    daemon = await DaemonFixture.start(config, {
      env: { DB_PASSWORD, AWS_SECRET_ACCESS_KEY: SHELL_SECRET, KEPT_FOR_THE_APP: 'yes' },
      // Beside the config, which the env file's path is relative to.
      beforeUp: (fixture) => fs.writeFileSync(path.join(fixture.dir, 'secrets.env'), `# the app's secrets\nSTRIPE_KEY=${STRIPE_KEY}\n`, { mode: 0o600 }),
    });
    // A deploy from a pipeline: the password comes from its environment, not from the file.
    record('deploy', await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2'], { env: { DB_PASSWORD } }));
    record('deploy --json', await daemon.cli(['deploy', '--json', '--set', 'web.run.env.VERSION=3'], { env: { DB_PASSWORD } }));
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['history', 'web'],
      ['history', 'web', '--json'],
      ['report', 'web'],
      ['report', 'web', '--json'],
      ['logs', 'web'],
    ]) {
      record(args.join(' '), await daemon.cli(args));
    }
  });

  after(async () => daemon?.stop());

  test("the app gets its values and a clean environment: nothing of the daemon's but the allowed names", async () => {
    assert.equal(outputs.get('deploy')!.includes('rollout') && /promoted/.test(outputs.get('deploy')!), true, outputs.get('deploy'));
    const env = (await (await fetch(`${daemon.origin}/env`)).json()) as Record<string, string>;
    assert.equal(env['DATABASE_URL'], DATABASE_URL);
    assert.equal(env['STRIPE_KEY'], STRIPE_KEY);
    assert.equal(env['VERSION'], '3');
    assert.equal(env['KEPT_FOR_THE_APP'], 'yes');
    assert.equal(env['AWS_SECRET_ACCESS_KEY'], undefined);
    assert.equal(env['DB_PASSWORD'], undefined);
    const allowed = /^(PATH|HOME|USER|LANG|TZ|LC_.*|KEPT_FOR_THE_APP|DATABASE_URL|STRIPE_KEY|VERSION|PORT|CUTOVER_(APP|REVISION|INSTANCE))$/;
    assert.deepEqual(
      Object.keys(env).filter((name) => !allowed.test(name)),
      [],
    );
  });

  test('no command output holds a secret value; history shows them as ***', () => {
    for (const [name, text] of outputs) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${name} shows a secret:\n${text}`);
    }
    assert.match(outputs.get('history web')!, /DATABASE_URL=\*\*\* .*STRIPE_KEY=\*\*\*/);
    assert.match(outputs.get('logs web')!, /connecting to \*\*\* /);
  });

  test('no API route, event stream or daemon log line holds a secret value', async () => {
    const socket = path.join(daemon.dataDir, 'cutover.sock');
    const rollouts = (JSON.parse(await apiGet(socket, `${API_PREFIX}/apps/web/rollouts`)) as { rollouts: { id: number }[] }).rollouts.map((r) => r.id);
    assert.ok(rollouts.length >= 3);
    const answers: string[] = [];
    for (const route of API_ROUTES.filter((r) => r.method === 'GET')) {
      const paths = route.example.includes('/rollouts/1') ? rollouts.map((id) => route.example.replace('/rollouts/1', `/rollouts/${id}`)) : [route.example];
      for (const urlPath of paths) answers.push(await apiGet(socket, `${API_PREFIX}${urlPath}${route.name === 'instances' ? '?stopped=1' : ''}`));
    }
    answers.push(await apiGet(socket, `${API_PREFIX}/events`, { accept: 'text/event-stream', 'last-event-id': '0' }, 1_500));
    const all = answers.join('\n');
    assert.match(all, /hook-failed/, 'the hook output is among the answers');
    assert.match(all, /migrating \*\*\*/, "the hook's output that held the secret is there, masked");
    for (const secret of SECRETS) assert.ok(!all.includes(secret), `an API answer shows ${secret}`);
    const daemonLog = fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8');
    for (const secret of SECRETS) assert.ok(!daemonLog.includes(secret), 'daemon.log shows a secret');
    assert.ok(!daemonLog.includes(SHELL_SECRET));
  });

  test('human-readable output shows control characters written out; JSON keeps them exact', async () => {
    for (const [name, text] of outputs) {
      if (name.includes('--json')) continue;
      assert.doesNotMatch(text, RAW_CONTROL, `${name} holds a raw control character`);
    }
    assert.match(outputs.get('logs web')!, /\\x1b\]0;pwned-by-a-log-line\\x07\\x1b\[2J\\x1b\]8;;http:\/\/evil\.example\\x1b\\click/);
    assert.match(outputs.get('deploy')!, /\\x1b\]0;pwned-by-a-hook\\x07\\x1b\[2Jhook done/);
    const daemonLog = fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8');
    assert.doesNotMatch(daemonLog, RAW_CONTROL);
    assert.match(daemonLog, /\\x1b\]0;pwned-by-a-hook\\x07/);
    const events = JSON.parse(await apiGet(path.join(daemon.dataDir, 'cutover.sock'), `${API_PREFIX}/events?app=web`)) as { events: { message: string }[] };
    assert.ok(
      events.events.some((e) => e.message.includes('\u001b]0;pwned-by-a-hook\u0007\u001b[2Jhook done')),
      'the API keeps the text exact',
    );
  });
});
