import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';

/** An app that says `tick N from <instance>` every 150ms, and one line with a terminal escape at start. */
const TICKER = `
import http from 'node:http';
const id = process.env.CUTOVER_INSTANCE;
console.log('\\x1b[31mred\\x1b[0m from ' + id);
let n = 0;
setInterval(() => console.log('tick ' + n++ + ' from ' + id), 150);
http.createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
`;

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (web-\d+-[0-9a-f]{6}) (.*)$/;

function parse(stdout: string): { timeMs: number; instance: string; text: string }[] {
  return stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = LINE.exec(line);
      assert.ok(match, `a line with its time and instance: ${JSON.stringify(line)}`);
      return { timeMs: Date.parse(match[1]!), instance: match[2]!, text: match[3]! };
    });
}

describe('issue 21: cutover logs', () => {
  let daemon: DaemonFixture;
  let scriptDir: string;
  before(async () => {
    scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-ticker-'));
    const script = path.join(scriptDir, 'ticker.mjs');
    fs.writeFileSync(script, TICKER);
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 2 }).replace('server.js', JSON.stringify(script)));
    // Enough ticks from both instances to interleave.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  });
  after(async () => {
    await daemon.stop();
    fs.rmSync(scriptDir, { recursive: true, force: true });
  });

  it('merges the live instances in time order, each line with its time and instance', async () => {
    const result = await daemon.cli(['logs', 'web']);
    assert.equal(result.code, 0, result.stderr);
    const lines = parse(result.stdout);
    const instances = new Set(lines.map((l) => l.instance));
    assert.equal(instances.size, 2, 'both live instances');
    assert.ok(lines.length >= 20, `only ${lines.length} lines`);
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i]!.timeMs >= lines[i - 1]!.timeMs, `time order at line ${i}`);
    const switches = lines.filter((l, i) => i > 0 && l.instance !== lines[i - 1]!.instance).length;
    assert.ok(switches >= 4, `the instances interleave (${switches} switches)`);
    for (const id of instances) {
      const ticks = lines.filter((l) => l.instance === id && l.text.startsWith('tick ')).map((l) => Number(l.text.split(' ')[1]));
      assert.deepEqual(
        ticks,
        [...ticks].sort((a, b) => a - b),
        `each instance's own lines keep their order`,
      );
    }
    const now = Date.now();
    assert.ok(
      lines.every((l) => l.timeMs > now - 60_000 && l.timeMs <= now),
      'times are when the lines were written',
    );
    assert.match(result.stdout, /\\x1b\[31mred\\x1b\[0m from web-1-/, 'control characters written out');
    assert.ok(!result.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  });

  it('-n, --since and --json', async () => {
    const five = await daemon.cli(['logs', 'web', '-n', '5']);
    assert.equal(five.code, 0, five.stderr);
    assert.equal(parse(five.stdout).length, 5);
    const recent = parse((await daemon.cli(['logs', 'web', '--since', '1s'])).stdout);
    const all = parse((await daemon.cli(['logs', 'web', '--tail', '100000'])).stdout);
    assert.ok(recent.length > 0 && recent.length < all.length, `--since 1s: ${recent.length} of ${all.length}`);
    const since = new Date(Date.now() - 1_500).toISOString();
    assert.ok(parse((await daemon.cli(['logs', 'web', '--since', since])).stdout).every((l) => l.timeMs >= Date.parse(since)));
    const json = await daemon.cli(['logs', 'web', '--json', '-n', '3']);
    assert.equal(json.code, 0, json.stderr);
    const objects = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { time: string; instance: string; revision: number; line: string });
    assert.equal(objects.length, 3);
    for (const o of objects) {
      assert.deepEqual(Object.keys(o), ['time', 'instance', 'revision', 'line']);
      assert.equal(o.revision, 1);
      assert.ok(!Number.isNaN(Date.parse(o.time)));
    }
    const red = await daemon.cli(['logs', 'web', '--json', '--tail', '100000']);
    assert.ok(red.stdout.includes('"\\u001b[31mred'), '--json keeps the line exact, as a JSON string');
  });

  it('exits 2 on a bad --tail or --since', async () => {
    for (const flags of [
      ['--tail', 'x'],
      ['-n', '-1'],
      ['--since', 'yesterday-ish'],
      ['--since', '10'],
    ]) {
      const result = await daemon.cli(['logs', 'web', ...flags]);
      assert.equal(result.code, 2, `${flags.join(' ')}: ${result.stderr}`);
    }
  });

  it('--follow prints new lines of every live instance as they come', async () => {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot(), 'bin', 'cutover.js'), 'logs', 'web', '-f', '-n', '0', '-c', daemon.configPath, '--data-dir', daemon.dataDir],
      {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(
        'followed lines of both instances',
        () => new Set(parse(out.slice(0, out.lastIndexOf('\n') + 1)).map((l) => l.instance)).size === 2,
        10_000,
      );
    } finally {
      child.kill('SIGTERM');
    }
    assert.ok(
      parse(out.slice(0, out.lastIndexOf('\n') + 1)).every((l) => l.text.startsWith('tick ')),
      'only new lines (-n 0)',
    );
  });

  it('after a deploy shows the live instances only; --all and --revision show the ended ones', async () => {
    const before = new Set(parse((await daemon.cli(['logs', 'web'])).stdout).map((l) => l.instance));
    const deployed = await daemon.cli(['deploy', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deployed.code, 0, deployed.stderr);
    const live = new Set(parse((await daemon.cli(['logs', 'web'])).stdout).map((l) => l.instance));
    assert.ok([...live].every((id) => id.startsWith('web-2-')) && live.size === 2, `live: ${[...live]}`);
    const all = new Set(parse((await daemon.cli(['logs', 'web', '--all', '--tail', '100000'])).stdout).map((l) => l.instance));
    assert.ok(
      [...before, ...live].every((id) => all.has(id)),
      '--all shows ended instances too',
    );
    const old = await daemon.cli(['logs', 'web', '--revision', '1']);
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(new Set(parse(old.stdout).map((l) => l.instance)), before);
    assert.match(old.stderr, /no instance of web runs revision 1/);
  });

  it('works with the daemon down: the last instances that ran, from the data dir', async () => {
    const down = await daemon.cli(['down']);
    assert.equal(down.code, 0, down.stderr);
    const result = await daemon.cli(['logs', 'web']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /no instance of web runs \(is the daemon down\?\)/);
    const shown = new Set(parse(result.stdout).map((l) => l.instance));
    assert.equal(shown.size, 2);
    assert.ok([...shown].every((id) => id.startsWith('web-2-')));
    const unknown = await daemon.cli(['logs', 'nosuchapp']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no app named "nosuchapp" \(known apps: web\)/);
  });
});

describe('issue 21: daemon.log has a size cap and rotates like app logs', () => {
  let daemon: DaemonFixture;
  before(async () => {
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }), { env: { CUTOVER_LOG_MAX_SIZE: '64KiB' } });
  });
  after(async () => daemon.stop());

  it('keeps its tail in daemon.log.1 and starts over once it passes the cap, while the daemon keeps writing to it', async () => {
    const log = path.join(daemon.dataDir, 'daemon.log');
    fs.appendFileSync(log, `${'filler line\n'.repeat(8_000)}`);
    assert.ok(fs.statSync(log).size > 64 * 1024, 'precondition: over the cap');
    await waitFor('daemon.log to rotate', () => fs.existsSync(`${log}.1`) && fs.statSync(log).size < 64 * 1024, 5_000);
    assert.ok(fs.statSync(`${log}.1`).size <= 64 * 1024);
    assert.equal(fs.statSync(`${log}.1`).mode & 0o777, 0o600);
    const scaled = await daemon.cli(['scale', 'web', '2']);
    assert.equal(scaled.code, 0, scaled.stderr);
    await waitFor('the daemon to write on into daemon.log', () => /scaled from 1 to 2/.test(fs.readFileSync(log, 'utf8')), 10_000);
  });
});
