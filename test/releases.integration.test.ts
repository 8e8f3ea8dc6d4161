import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { LoadClient } from '../src/loadgen/load-client.js';
import type { ReleasesReport } from '../src/protocol/releases.js';
import { DaemonFixture, isProcessGroupAlive, waitFor } from './helpers/daemon-fixture.js';

/** A tiny app whose answer is the code it runs: `CODE` is the line a deploy changes. */
function serverSource(code: string): string {
  return [
    "const http = require('node:http');",
    `const CODE = ${JSON.stringify(code)};`,
    'const server = http.createServer((req, res) => {',
    "  if (req.url === '/healthz') return res.end('ok');",
    '  res.end(CODE);',
    '});',
    'server.keepAliveTimeout = 60_000;',
    "server.listen(Number(process.env.PORT), '127.0.0.1');",
    "process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });",
    '',
  ].join('\n');
}

function releaseConfig(port: number, release: string, replicas = 2): string {
  return [
    'apps:',
    '  web:',
    `    listen: 127.0.0.1:${port}`,
    '    release:',
    ...release.split('\n').map((line) => `      ${line}`),
    '    run:',
    `      command: [${JSON.stringify(process.execPath)}, server.js]`,
    `    replicas: ${replicas}`,
    '    health: { path: /healthz, interval: 100ms, timeout: 1s, startupTimeout: 5s }',
    '    drainTimeout: 5s',
    '    strategy:',
    '      rolling: { maxSurge: 1, maxUnavailable: 0, minReady: 1s }',
    '',
  ].join('\n');
}

async function answers(origin: string, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) seen.add(await (await fetch(origin)).text());
  return seen;
}

describe('releases: every revision runs its own code', () => {
  let daemon: DaemonFixture;
  let appDir: string;
  const writeCode = (code: string): void => fs.writeFileSync(path.join(appDir, 'server.js'), serverSource(code));
  const releasesOf = async (): Promise<ReleasesReport> => daemon.client.releases('web');

  before(async () => {
    daemon = await DaemonFixture.start((port) => releaseConfig(port, 'from: ./app\nexclude: ["*.log"]\nkeep: 1'), {
      beforeUp: (fixture) => {
        appDir = path.join(fixture.dir, 'app');
        fs.mkdirSync(appDir);
        writeCode('v1');
      },
    });
  });
  after(async () => daemon.stop());

  it('serves the release it took, and records it in the history', async () => {
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v1']));
    const history = JSON.parse((await daemon.cli(['history', 'web', '--json'])).stdout) as { revisions: { release: { hash: string; source: string } }[] };
    assert.match(history.revisions[0]!.release.hash, /^[0-9a-f]{64}$/);
    assert.equal(history.revisions[0]!.release.source, fs.realpathSync(appDir));
    const [release] = (await releasesOf()).releases;
    assert.equal(release!.use, 'serving');
  });

  it('an edited file makes a new revision; old instances answer old code during the rollout, new ones new code; 0 failed requests', async () => {
    writeCode('v2');
    fs.writeFileSync(path.join(appDir, 'debug.log'), 'excluded: not part of the release');
    const load = new LoadClient({ origin: daemon.origin, clients: 8, maxDurationMs: 60_000 });
    load.start();
    const seen: string[] = [];
    let isDeploying = true;
    const sampling = (async () => {
      while (isDeploying) seen.push(await (await fetch(daemon.origin)).text());
    })();
    const deploy = await daemon.cli(['deploy']);
    isDeploying = false;
    await sampling;
    const report = await load.stop();
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
    assert.match(deploy.stdout, /deploying revision 2/);
    assert.ok(report.requests > 100, `only ${report.requests} requests`);
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
    assert.ok(seen.includes('v1') && seen.includes('v2'), `both codes answer while the rollout runs: ${[...new Set(seen)].join(', ')}`);
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v2']));
    // An instance restart loads its own release, not the working tree.
    writeCode('v2-edited-not-deployed');
    const status = await daemon.status();
    process.kill(status.apps[0]!.instances[0]!.pid!, 'SIGKILL');
    await waitFor(
      'the killed instance replaced',
      async () => (await daemon.status()).apps[0]!.instances.filter((i) => i.state === 'ready').length === 2,
      20_000,
    );
    assert.deepEqual(await answers(daemon.origin, 8), new Set(['v2']));
  });

  it('the same files and config again: unchanged, exit 0', async () => {
    writeCode('v2');
    const deploy = await daemon.cli(['deploy']);
    assert.equal(deploy.code, 0);
    assert.match(deploy.stdout, /unchanged, revision 2/);
  });

  it('a rollback runs the old release byte for byte, whatever the working tree holds', async () => {
    const rollback = await daemon.cli(['rollback', 'web']);
    assert.equal(rollback.code, 0, rollback.stderr);
    await waitFor('revision 1 stable', async () => (await daemon.status()).apps[0]!.revision === 1, 30_000);
    await waitFor('only v1 answering', async () => (await answers(daemon.origin, 6)).size === 1, 20_000);
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v1']));
    const files = fs.readdirSync(path.join(daemon.dataDir, 'releases', 'web')).filter((name) => !name.endsWith('.manifest.gz'));
    assert.equal(files.length, 2, `both releases kept (one in use, keep: 1): ${files.join(', ')}`);
  });

  it('a failing build fails the rollout with its last line (exit 1); stable untouched; 0 failed requests; the half-built release is removed', async () => {
    fs.writeFileSync(path.join(appDir, 'build.js'), "console.log('compiling'); console.error('boom: cannot resolve ./missing'); process.exit(1);\n");
    daemon.writeConfig(releaseConfig(daemon.port, `from: ./app\nkeep: 1\nbuild:\n  - [${JSON.stringify(process.execPath)}, build.js]`));
    writeCode('v3');
    const load = new LoadClient({ origin: daemon.origin, clients: 8, maxDurationMs: 60_000 });
    load.start();
    const deploy = await daemon.cli(['deploy']);
    const report = await load.stop();
    assert.equal(deploy.code, 1, `${deploy.stdout}\n${deploy.stderr}`);
    assert.match(deploy.stdout, /boom: cannot resolve \.\/missing/);
    assert.ok(report.requests > 50, `only ${report.requests} requests`);
    assert.equal(report.failed, 0, JSON.stringify(report.failures));
    const status = await daemon.status();
    assert.equal(status.apps[0]!.revision, 1);
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v1']));
    const failed = (await releasesOf()).releases.find((r) => r.use === 'failed');
    assert.ok(failed, 'the failed release is listed');
    const dirs = fs.readdirSync(path.join(daemon.dataDir, 'releases', 'web'));
    assert.ok(!dirs.some((name) => name.startsWith(`${failed.revision}-`) && !name.endsWith('.gz')), `half-built release left: ${dirs.join(', ')}`);
  });

  it('takes a release from a .tar.gz file built elsewhere', async () => {
    daemon.writeConfig(releaseConfig(daemon.port, 'from: ./app\nkeep: 1'));
    const built = path.join(daemon.dir, 'built');
    fs.mkdirSync(built);
    fs.writeFileSync(path.join(built, 'server.js'), serverSource('v4-tarball'));
    const tarball = path.join(daemon.dir, 'web.tgz');
    await tar.c({ gzip: true, file: tarball, cwd: built }, ['server.js']);
    const deploy = await daemon.cli(['deploy', 'web', '--from', tarball]);
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v4-tarball']));
    const [newest] = (await releasesOf()).releases;
    assert.equal(newest!.source, tarball);
    assert.equal(newest!.use, 'serving');
  });

  it('takes a release from a git commit of the config repository, and records the commit', async (t) => {
    if (!hasGit()) {
      if (process.env['CUTOVER_REQUIRE_EXTERNAL'] === '1') assert.fail('git is not installed');
      t.skip('git is not installed');
      return;
    }
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: daemon.dir, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', 'app/server.js', 'cutover.yaml');
    writeCode('v5-committed');
    git('add', 'app/server.js');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'v5');
    const commit = git('rev-parse', 'HEAD');
    writeCode('v6-not-committed');
    const bad = await daemon.cli(['deploy', 'web', '--from', 'git:--upload-pack=x']);
    assert.equal(bad.code, 2, 'a ref that looks like an option is refused');
    const deploy = await daemon.cli(['deploy', 'web', '--from', 'git:HEAD']);
    assert.equal(deploy.code, 0, `${deploy.stdout}\n${deploy.stderr}`);
    assert.deepEqual(await answers(daemon.origin, 5), new Set(['v5-committed']));
    const history = JSON.parse((await daemon.cli(['history', 'web', '--json'])).stdout) as { revisions: { release: { commit?: string; source: string } }[] };
    const last = history.revisions.at(-1)!;
    assert.equal(last.release.commit, commit);
    assert.equal(last.release.source, 'git:HEAD');
  });

  it('pruning keeps `keep` releases besides those in use, and never one in use', async () => {
    // Pruning waits until the last rollout settled (its old instances gone).
    const settled = async (): Promise<boolean> => (await releasesOf()).releases.filter((r) => r.use === 'kept' || r.use === 'warm').length <= 1;
    await waitFor('the last rollout settled and pruned', settled, 20_000).catch(() => undefined);
    const report = await releasesOf();
    const stable = (await daemon.status()).apps[0]!.revision!;
    const onDisk = report.releases.filter((r) => r.use !== 'pruned' && r.use !== 'failed');
    assert.ok(onDisk.some((r) => r.revision === stable && r.use === 'serving'));
    assert.ok(onDisk.length <= 2, `keep: 1 plus the one in use: ${JSON.stringify(onDisk.map((r) => [r.revision, r.use]))}`);
    assert.ok(
      report.releases.some((r) => r.use === 'pruned'),
      'older releases were pruned',
    );
    for (const r of report.releases.filter((x) => x.use === 'pruned')) {
      assert.ok(!fs.readdirSync(path.join(daemon.dataDir, 'releases', 'web')).includes(`${r.revision}-${r.hash.slice(0, 12)}`));
    }
    const text = await daemon.cli(['releases', 'web']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /serving/);
    assert.match(text.stdout, /MB on disk/);
  });
});

describe('releases: a controller killed while copying or building', () => {
  let daemon: DaemonFixture;
  let appDir: string;

  before(async () => {
    daemon = await DaemonFixture.start((port) => releaseConfig(port, 'from: ./app\nkeep: 2', 1), {
      beforeUp: (fixture) => {
        appDir = path.join(fixture.dir, 'app');
        fs.mkdirSync(appDir);
        fs.writeFileSync(path.join(appDir, 'server.js'), serverSource('v1'));
      },
    });
  });
  after(async () => daemon.stop());

  it('killed during the build: the build is killed, its release removed, the rollout failed, stable untouched', async () => {
    const marker = path.join(daemon.dir, 'build.pid');
    fs.writeFileSync(
      path.join(appDir, 'build.js'),
      `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setTimeout(() => {}, 60000);\n`,
    );
    daemon.writeConfig(releaseConfig(daemon.port, `from: ./app\nkeep: 2\nbuild:\n  - [${JSON.stringify(process.execPath)}, build.js]`, 1));
    fs.writeFileSync(path.join(appDir, 'server.js'), serverSource('v2'));
    const deploy = await daemon.cli(['deploy', '--detach']);
    assert.equal(deploy.code, 0, deploy.stderr);
    await waitFor('the build to run', () => fs.existsSync(marker), 20_000);
    const buildPid = Number(fs.readFileSync(marker, 'utf8'));
    await daemon.killController().catch((error: Error) => assert.fail(`${error.message}\n${daemon.logTail()}`));
    await waitFor('the rollout failed', async () => (await daemon.client.history('web')).rollouts[0]!.phase === 'failed', 20_000);
    const rollout = (await daemon.client.history('web')).rollouts[0]!;
    assert.match(rollout.reason ?? '', /restarted while the release/);
    await waitFor('the build process gone', () => !isProcessGroupAlive(buildPid), 10_000);
    assert.equal((await daemon.status()).apps[0]!.revision, 1);
    assert.deepEqual(await answers(daemon.origin, 3), new Set(['v1']));
    const names = fs.readdirSync(path.join(daemon.dataDir, 'releases', 'web'));
    assert.deepEqual(
      names.filter((n) => !n.endsWith('.gz')),
      [fs.readdirSync(path.join(daemon.dataDir, 'releases', 'web')).find((n) => n.startsWith('1-'))],
      `only revision 1's release is left: ${names.join(', ')}`,
    );
  });

  it('killed during the copy: no revision is made, the temporary copy is removed, stable untouched', async () => {
    daemon.writeConfig(releaseConfig(daemon.port, 'from: ./app\nkeep: 2', 1));
    // Enough files that the copy takes a while.
    for (let d = 0; d < 40; d++) {
      fs.mkdirSync(path.join(appDir, `lib${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(appDir, `lib${d}`, `f${f}.js`), `// ${d}/${f}\n`.repeat(200));
    }
    const revisionsBefore = (await daemon.client.history('web')).revisions.length;
    const releasesDir = path.join(daemon.dataDir, 'releases', 'web');
    const deploying = daemon.cli(['deploy', '--detach']);
    await waitFor('a copy under a temporary name', () => fs.readdirSync(releasesDir).some((n) => n.startsWith('.partial-')), 30_000);
    await daemon.killController();
    await deploying;
    await waitFor('the temporary copy removed', () => !fs.readdirSync(releasesDir).some((n) => n.startsWith('.partial-')), 10_000);
    assert.equal((await daemon.client.history('web')).revisions.length, revisionsBefore, 'no revision was made');
    assert.equal((await daemon.status()).apps[0]!.revision, 1);
    assert.deepEqual(await answers(daemon.origin, 3), new Set(['v1']));
    // And the next deploy goes through.
    const again = await daemon.cli(['deploy']);
    assert.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  });
});

function hasGit(): boolean {
  try {
    execFileSync('git', ['--version']);
    return true;
  } catch {
    return false;
  }
}
