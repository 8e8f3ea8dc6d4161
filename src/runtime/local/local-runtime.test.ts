import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalRuntime } from './local-runtime.js';
import { isGroupAlive } from './process-group.js';
import { expandVars } from './expand-vars.js';
import type { RunSpec } from '../../model/app-spec.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-rt-'));
const runtime = new LocalRuntime();
after(() => {
  runtime.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(command: string[], options: Partial<RunSpec> = {}): RunSpec {
  return { command, shell: false, cwd: dir, env: {}, ...options };
}

function start(spec: RunSpec, id = `t-${Math.random().toString(16).slice(2, 8)}`) {
  return runtime.start({ app: 'web', revision: 7, instanceId: id, run: spec, logPath: path.join(dir, `${id}.log`) });
}

describe('LocalRuntime', () => {
  it('passes PORT and the CUTOVER_* variables, expands ${PORT} in arguments, and logs to the file', async () => {
    const script =
      'console.log(process.argv[1], process.env.PORT, process.env.CUTOVER_APP, process.env.CUTOVER_REVISION, process.env.CUTOVER_INSTANCE, process.env.GREETING)';
    const started = await start(run([process.execPath, '-e', script, 'port=${PORT}'], { env: { GREETING: 'hi' } }), 'env-check');
    const exit = await started.exited;
    assert.equal(exit.code, 0);
    const line = fs.readFileSync(path.join(dir, 'env-check.log'), 'utf8').trim();
    assert.equal(line, `port=${started.port} ${started.port} web 7 env-check hi`);
  });

  it("issue 22: gives an instance a clean environment: the revision's, its own, PATH, HOME, USER, LANG, LC_*, TZ and run.inheritEnv only", async () => {
    const daemonEnv = { AWS_SECRET_ACCESS_KEY: 'from-the-shell-of-cutover-up', LC_TIME: 'C', TZ: 'UTC', KEPT_ON_PURPOSE: 'yes', CUTOVER_DATA_DIR: '/srv' };
    Object.assign(process.env, daemonEnv);
    try {
      const script = 'console.log(JSON.stringify(process.env))';
      const started = await start(run([process.execPath, '-e', script], { env: { GREETING: 'hi' }, inheritEnv: ['KEPT_ON_PURPOSE'] }), 'clean-env');
      assert.equal((await started.exited).code, 0);
      const seen = JSON.parse(fs.readFileSync(path.join(dir, 'clean-env.log'), 'utf8')) as Record<string, string>;
      const names = Object.keys(seen).sort();
      const allowed = /^(PATH|HOME|USER|LANG|TZ|LC_.*|KEPT_ON_PURPOSE|GREETING|PORT|CUTOVER_(APP|REVISION|INSTANCE))$/;
      assert.deepEqual(
        names.filter((name) => !allowed.test(name)),
        [],
        'only the clean set',
      );
      assert.equal(seen['AWS_SECRET_ACCESS_KEY'], undefined);
      assert.equal(seen['CUTOVER_DATA_DIR'], undefined);
      assert.deepEqual([seen['GREETING'], seen['KEPT_ON_PURPOSE'], seen['LC_TIME'], seen['TZ'], seen['PATH']], ['hi', 'yes', 'C', 'UTC', process.env.PATH]);
    } finally {
      for (const name of Object.keys(daemonEnv)) delete process.env[name];
    }
  });

  it('reports a command that does not exist as a spawn error naming it', async () => {
    const started = await start(run(['cutover-no-such-binary']));
    const exit = await started.exited;
    assert.equal(exit.spawnError, 'command not found: cutover-no-such-binary');
  });

  it('reports a working directory that does not exist', async () => {
    const started = await start(run(['true'], { cwd: path.join(dir, 'missing') }));
    assert.match((await started.exited).spawnError ?? '', /working directory .*missing does not exist/);
  });

  it('runs a command string through /bin/sh with shell: true', async () => {
    const started = await start(run(['echo one && echo two'], { shell: true }), 'shell-check');
    await started.exited;
    assert.equal(fs.readFileSync(path.join(dir, 'shell-check.log'), 'utf8'), 'one\ntwo\n');
  });

  it('stops with SIGTERM when the process obeys it', async () => {
    const started = await start(run([process.execPath, '-e', 'setInterval(() => {}, 1000)']));
    const result = await runtime.stop(started.pid!, 5_000);
    assert.equal(result.wasKilled, false);
    assert.equal((await started.exited).signal, 'SIGTERM');
  });

  it('kills the whole process group with SIGKILL when SIGTERM is ignored', async () => {
    // The shell ignores TERM and so does its child; both must go.
    const started = await start(run(["trap '' TERM; sleep 300 & echo started; wait"], { shell: true }), 'ignores-term');
    await waitForLog('ignores-term', 'started');
    const result = await runtime.stop(started.pid!, 300);
    assert.equal(result.wasKilled, true);
    assert.equal(isGroupAlive(started.pid!), false);
  });
});

async function waitForLog(id: string, text: string): Promise<void> {
  const file = path.join(dir, `${id}.log`);
  for (let n = 0; n < 200; n++) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${file} never said "${text}"`);
}

describe('expandVars', () => {
  it('replaces known ${NAME}s and leaves unknown ones visible', () => {
    assert.equal(expandVars('--port=${PORT} ${NOPE} $PORT', { PORT: '80' }), '--port=80 ${NOPE} $PORT');
  });
});
