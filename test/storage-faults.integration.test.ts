import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { LoadClient } from '../src/loadgen/load-client.js';
import { EXIT_STORE_CORRUPT } from '../src/exit-codes.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('a corrupt state database', () => {
  it('makes the daemon refuse to start with a clear message and exit code 4, leaving the file untouched', async () => {
    const daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }));
    const database = path.join(daemon.dataDir, 'state.db');
    try {
      const down = await daemon.cli(['down']);
      assert.equal(down.code, 0, down.stderr);
      // Garbage over the header and the first pages: what a bad disk or a stray write leaves.
      const fd = fs.openSync(database, 'r+');
      fs.writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 0);
      fs.closeSync(fd);
      const before = sha256(database);
      const names = fs.readdirSync(daemon.dataDir).sort();

      for (const args of [['up', '--detach'], ['up']]) {
        const up = await daemon.cli(args);
        assert.equal(up.code, EXIT_STORE_CORRUPT, `cutover ${args.join(' ')} exited ${up.code}: ${up.stderr}`);
        assert.match(up.stderr, /the state database .*state\.db is corrupt/);
        assert.match(up.stderr, /left it untouched/);
      }
      assert.equal(sha256(database), before, 'the database file is byte for byte the same');
      assert.deepEqual(fs.readdirSync(daemon.dataDir).sort(), names, 'no file was added or removed beside it');
      assert.equal(fs.existsSync(path.join(daemon.dataDir, 'daemon.pid')), false, 'no daemon runs');
    } finally {
      await daemon.stop();
    }
  });
});

describe('a state database locked by another writer', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2 }));
  });
  after(async () => daemon.stop());

  it('for 2 s surfaces no error: a deploy meanwhile waits for the lock and completes', async () => {
    const load = new LoadClient({ origin: daemon.origin, clients: 8, pauseMs: 2, maxDurationMs: 240_000 });
    load.start();
    const other = new Database(path.join(daemon.dataDir, 'state.db'));
    other.exec('BEGIN IMMEDIATE');
    other.prepare('UPDATE apps SET updated_at = updated_at').run();
    // The lock must really be in the way: the store is synchronous, so a controller waiting on
    // it answers nothing meanwhile. It is held at least 2 s, until a health call has waited
    // 500 ms, and at most 4.5 s (under the 5 s busy timeout, which would surface an error).
    let longestWaitMs = 0;
    const released = (async () => {
      const since = performance.now();
      let pendingSince: number | null = null;
      let probe: Promise<unknown> | null = null;
      while (performance.now() - since < 4_500 && (performance.now() - since < 2_000 || longestWaitMs < 500)) {
        if (probe === null) {
          const sentAt = performance.now();
          pendingSince = sentAt;
          probe = daemon.client
            .health()
            .catch(() => undefined)
            .finally(() => {
              longestWaitMs = Math.max(longestWaitMs, performance.now() - sentAt);
              probe = null;
              pendingSince = null;
            });
        }
        await sleep(20);
        if (pendingSince !== null) longestWaitMs = Math.max(longestWaitMs, performance.now() - pendingSince);
      }
      other.exec('COMMIT');
    })();
    try {
      const deploy = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
      await released;
      assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}\n${daemon.logTail()}`);
    } finally {
      await released.catch(() => undefined);
      other.close();
    }
    assert.ok(longestWaitMs >= 500, `the controller never waited on the lock (longest health answer ${Math.round(longestWaitMs)} ms)`);
    const report = await load.stop();
    assert.ok(report.requests > 100, `only ${report.requests} requests across the lock`);
    assert.deepEqual(report.failures, []);
    assert.doesNotMatch(fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8'), /SQLITE_BUSY|database is locked|reconcile of web failed/);
  });
});

describe('SIGKILL during writes', () => {
  it('leaves a database whose integrity check answers ok, after 100 kills', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-kill-'));
    const database = path.join(dir, 'state.db');
    const writer = new URL('./helpers/store-writer.js', import.meta.url).pathname;
    try {
      for (let n = 0; n < 100; n++) {
        const child = spawn(process.execPath, [writer, database], { stdio: ['ignore', 'pipe', 'inherit'] });
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        await sleep(Math.random() * 40);
        child.kill('SIGKILL');
        await exited;
      }
      const db = new Database(database);
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        assert.ok((db.prepare('SELECT count(*) FROM events').pluck().get() as number) > 100, 'the writers got writes in');
      } finally {
        db.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Mounting a small filesystem needs root (or CAP_SYS_ADMIN). CI (CUTOVER_REQUIRE_EXTERNAL=1) and
 * CUTOVER_REQUIRE_MOUNT=1 turn the skip into a failure: the test then runs and its mount fails.
 */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'co-mnt-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const isMountRequired = process.env.CUTOVER_REQUIRE_MOUNT === '1' || process.env.CUTOVER_REQUIRE_EXTERNAL === '1';
const mountSkip = canMount() || isMountRequired ? false : 'needs root to mount a small tmpfs for the data dir (CUTOVER_REQUIRE_MOUNT=1 makes this a failure)';

describe('a full disk during a rollout', { skip: mountSkip }, () => {
  it('holds the rollout with a clear reason, leaves traffic as it is, and goes on once space returns', async () => {
    let mounted: string | null = null;
    const daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 3, rolling: '{ maxSurge: 1, maxUnavailable: 0, minReady: 2s }' }), {
      beforeUp: (fixture) => {
        fs.mkdirSync(fixture.dataDir, { recursive: true });
        // Private like any data dir (a tmpfs root is 1777 by default, which cutover refuses).
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', fixture.dataDir]);
        mounted = fixture.dataDir;
      },
    }).catch((error: unknown) => {
      // A daemon that did not start leaves the mount behind: undo it before the fixture's folder goes.
      if (mounted) execFileSync('umount', ['-l', mounted]);
      throw error;
    });
    const load = new LoadClient({ origin: daemon.origin, clients: 16, postShare: 0.25, pauseMs: 2, maxDurationMs: 240_000 });
    const filler = path.join(daemon.dataDir, 'filler');
    try {
      load.start();
      const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
      assert.equal(deploy.code, 0, deploy.stderr);
      // Fill the disk while the first new instance sits out its minReady, none starting.
      await waitFor('a new instance to be ready, none starting', async () => {
        const web = (await daemon.status()).apps[0]!;
        return web.instances.some((i) => i.revision === 2 && i.state === 'ready') && !web.instances.some((i) => i.state === 'starting');
      });
      fillDisk(filler);

      await waitFor('the rollout to hold for the disk', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'paused');
      const held = await daemon.status();
      assert.match(held.storageFault ?? '', /full|SQLITE_FULL/);
      assert.match(held.apps[0]!.rollout?.reason ?? '', /held: .*(full|SQLITE_FULL).*traffic stays as it is/);
      const shape = (s: typeof held): string => JSON.stringify({ traffic: s.apps[0]!.traffic, instances: s.apps[0]!.instances.map((i) => [i.id, i.state]) });
      for (let n = 0; n < 8; n++) {
        await sleep(250); // Several ticks of the control loop: none may change anything.
        const now = await daemon.status();
        assert.equal(shape(now), shape(held), 'nothing starts, stops or moves while the disk is full');
        assert.equal(now.apps[0]!.rollout?.phase, 'paused');
      }

      fs.rmSync(filler);
      fs.rmSync(`${filler}-tail`);
      await waitFor('the rollout to finish', async () => (await daemon.status()).apps[0]!.rollout?.phase === 'promoted', 30_000);
      const report = await load.stop();
      assert.deepEqual(report.failures, [], daemon.logTail());
      const { events } = await daemon.client.events({ app: 'web' });
      assert.ok(
        events.some((e) => e.kind === 'rollout-storage-resumed'),
        'the hold is on record once the disk takes writes again',
      );
    } finally {
      await load.stop().catch(() => undefined);
      fs.rmSync(filler, { force: true });
      fs.rmSync(`${filler}-tail`, { force: true });
      await daemon.cli(['down']);
      if (mounted) execFileSync('umount', ['-l', mounted]);
      await daemon.stop();
    }
  });
});

/** Writes until the filesystem says it is full. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
  // The last few bytes too.
  const small = fs.openSync(`${file}-tail`, 'w');
  try {
    for (;;) fs.writeSync(small, Buffer.alloc(512, 1));
  } catch {
    // Full.
  } finally {
    fs.closeSync(small);
  }
}
