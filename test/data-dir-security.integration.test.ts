/**
 * Issue 22, finding 2: the data dir holds environment values and the admin token. A data dir
 * another user owns or may write to is refused (exit 2, with the fix), so is a token file
 * another user wrote; what cutover keeps there is readable by its own user only, checked with
 * a second user (nobody) where the machine allows it (the tests run as root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, runCli, sampleAppConfig } from './helpers/daemon-fixture.js';

const NOBODY = 65_534;
const isRoot = process.getuid?.() === 0;
const canSwitchUser = isRoot && spawnSync('setpriv', ['--version']).status === 0;

/** Runs `cat file` as the user nobody; true when it could read it. */
function nobodyCanRead(file: string): boolean {
  return spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'cat', file], { stdio: 'ignore' }).status === 0;
}

/** Every file and folder under `root`, with its permission bits. */
function modesUnder(root: string): Map<string, number> {
  const modes = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full);
      modes.set(path.relative(root, full), stat.mode & 0o777);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(root);
  return modes;
}

describe('the data dir is private (issue 22, finding 2)', () => {
  let scratch: string;
  let config: string;

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'co-dd-'));
    config = path.join(scratch, 'cutover.yaml');
    fs.writeFileSync(config, sampleAppConfig(1, { replicas: 1 }));
  });

  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('a data dir others may write to is refused with exit 2, naming the fix', async () => {
    const dataDir = path.join(scratch, 'open');
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, 0o777);
    const result = await runCli(['up', '--detach', '-c', config, '--data-dir', dataDir]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`the data dir ${dataDir} can be written by other users \\(mode 777\\)`));
    assert.match(result.stderr, new RegExp(`hint: run chmod 700 ${dataDir}`));
    assert.deepEqual(fs.readdirSync(dataDir), [], 'nothing was started or written');
  });

  test(
    'a 0777 data dir of another user, holding an admin token that user wrote, is refused',
    { skip: isRoot ? false : 'needs root to give a folder to another user' },
    async () => {
      const dataDir = path.join(scratch, 'theirs');
      fs.mkdirSync(dataDir);
      fs.writeFileSync(path.join(dataDir, 'admin-token'), 'chosen-by-another-user-0123456789\n', { mode: 0o600 });
      fs.chownSync(path.join(dataDir, 'admin-token'), NOBODY, NOBODY);
      fs.chownSync(dataDir, NOBODY, NOBODY);
      fs.chmodSync(dataDir, 0o777);
      const result = await runCli(['up', '--detach', '--admin', '127.0.0.1:1', '-c', config, '--data-dir', dataDir]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`the data dir ${dataDir} belongs to user nobody \\(uid ${NOBODY}\\), not to user \\S+ \\(uid 0\\) who runs cutover`),
      );
      assert.match(result.stderr, /hint: use a data dir of your own/);
      assert.deepEqual(fs.readdirSync(dataDir), ['admin-token']);
    },
  );

  test(
    'an admin token file another user owns is refused, in a data dir of ours',
    { skip: isRoot ? false : 'needs root to give a file to another user' },
    async () => {
      const dataDir = path.join(scratch, 'planted');
      fs.mkdirSync(dataDir, { mode: 0o700 });
      const token = path.join(dataDir, 'admin-token');
      fs.writeFileSync(token, 'chosen-by-another-user-0123456789\n', { mode: 0o600 });
      fs.chownSync(token, NOBODY, NOBODY);
      const result = await runCli(['up', '--detach', '--admin', '127.0.0.1:1', '-c', config, '--data-dir', dataDir]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`the admin token file ${token} belongs to uid ${NOBODY}, not to uid 0 who runs cutover`));
      assert.match(result.stderr, new RegExp(`hint: delete it \\(rm ${token}\\)`));
    },
  );

  describe('an existing 0755 data dir, with files an earlier version left readable by all', () => {
    let daemon: DaemonFixture;

    before(async () => {
      daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1, env: { DB_PASSWORD: 'hunter2-in-the-state-db' } }), {
        upArgs: ['--admin', `127.0.0.1:${await findFreePort()}`],
        beforeUp: (fixture) => {
          // Reachable by others down to the data dir, as a user's own folder often is.
          fs.chmodSync(fixture.dir, 0o755);
          fs.mkdirSync(path.join(fixture.dataDir, 'logs', 'web'), { recursive: true, mode: 0o755 });
          fs.chmodSync(fixture.dataDir, 0o755);
          fs.chmodSync(path.join(fixture.dataDir, 'logs'), 0o755);
          fs.writeFileSync(path.join(fixture.dataDir, 'daemon.log'), 'an old line\n', { mode: 0o644 });
          fs.writeFileSync(path.join(fixture.dataDir, 'logs', 'web', 'web-0-old.log'), 'an old app line\n', { mode: 0o644 });
        },
      });
      await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    });

    after(async () => daemon?.stop());

    test('every file cutover keeps there is 0600 and every folder 0700; the data dir itself keeps its mode', () => {
      const modes = modesUnder(daemon.dataDir);
      for (const name of [
        'state.db',
        'state.db-wal',
        'state.db-shm',
        'daemon.log',
        'daemon.pid',
        'admin-token',
        'logs',
        'logs/web',
        'logs/web/web-0-old.log',
      ]) {
        assert.ok(modes.has(name), `${name} is there: ${[...modes.keys()].join(', ')}`);
      }
      const shared = [...modes].filter(([name, mode]) => name !== 'cutover.sock' && (mode & 0o077) !== 0);
      assert.deepEqual(shared, [], 'nothing is readable or writable by group or others');
      assert.ok(
        [...modes.keys()].some((name) => /^logs\/web\/web-\d+-.+\.log$/.test(name) && name !== 'logs/web/web-0-old.log'),
        'an instance log was written',
      );
      assert.equal(modes.get('cutover.sock'), 0o600);
      assert.equal(fs.statSync(daemon.dataDir).mode & 0o777, 0o755);
    });

    test(
      'a second user cannot read the state database, the logs or the token',
      { skip: canSwitchUser ? false : 'needs root and setpriv to act as another user' },
      () => {
        // The precondition: the same user reads a file of its own that is readable by all.
        const probe = path.join(daemon.dir, 'probe.txt');
        fs.writeFileSync(probe, 'readable\n', { mode: 0o644 });
        assert.equal(nobodyCanRead(probe), true, 'nobody reads a world-readable file here');
        for (const name of ['state.db', 'state.db-wal', 'daemon.log', 'admin-token', 'logs/web/web-0-old.log']) {
          assert.equal(nobodyCanRead(path.join(daemon.dataDir, name)), false, name);
        }
      },
    );
  });
});
