/**
 * Slow clients beside normal traffic: slowhttptest (Debian) opens 200 slowloris connections
 * (headers dripped) and 200 slow-body connections (R-U-D-Y) against a proxy in its own
 * process while real keep-alive clients send GETs and POSTs. Normal requests must all succeed,
 * the slow connections must be cut by the header timeout and the minimum body rate, and the
 * proxy's memory must stay bounded.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoadClient } from '../../src/loadgen/load-client.js';
import { startUpstream, type TestUpstream } from '../helpers/proxy-fixtures.js';
import { externalProgram } from '../helpers/external-program.js';
import { startProxyChild, type ProxyChild } from './proxy-child-process.js';

const ATTACK_SECONDS = 12;
const SLOW_CONNECTIONS = 200;
/** Generous: the proxy idles at ~60 MB; unbounded buffering of 400 slow clients would show. */
const MAX_PROXY_RSS_BYTES = 250 * 1024 * 1024;

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

interface Attack {
  child: ChildProcess;
  output: () => string;
}

function startAttack(program: string, mode: '-H' | '-B', port: number): Attack {
  const args = [
    mode,
    '-c',
    String(SLOW_CONNECTIONS),
    '-r',
    String(SLOW_CONNECTIONS),
    '-i',
    '1',
    '-x',
    '10',
    '-s',
    '65536',
    '-l',
    String(ATTACK_SECONDS),
    '-p',
    '3',
    '-u',
    `http://127.0.0.1:${port}/`,
  ];
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Without the terminal colour codes.
  // eslint-disable-next-line no-control-regex
  return { child, output: () => output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') };
}

/**
 * The server cut slow connections: slowhttptest gave up because none was left open, or its
 * last status line (printed every 5 s) counts closed ones.
 */
function wasCut(output: string): boolean {
  const counts = [...output.matchAll(/closed:\s+(\d+)/g)].map((m) => Number(m[1]));
  return /No open connections left/.test(output) || (counts.at(-1) ?? 0) > 0;
}

describe('slow clients beside normal load', () => {
  const program = externalProgram('slowhttptest');
  let upstream: TestUpstream | undefined;
  let proxy: ProxyChild | undefined;
  const attacks: Attack[] = [];

  before(async () => {
    if ('skip' in program) return;
    upstream = await startUpstream();
    proxy = await startProxyChild(upstream.port, {
      // Shorter than the defaults (10 s) so the limits act within the test.
      clientHeadersTimeoutMs: 3_000,
      clientTimeoutCheckIntervalMs: 500,
      bodyRateGraceMs: 3_000,
      minBodyBytesPerSecond: 1024,
    });
  });

  after(async () => {
    for (const attack of attacks) if (attack.child.exitCode === null && attack.child.signalCode === null) attack.child.kill('SIGKILL');
    await proxy?.stop();
    await upstream?.close();
  });

  test('200 slowloris and 200 slow-body connections fail no normal request and are cut', { skip: 'skip' in program ? program.skip : false }, async () => {
    const { port } = proxy!;
    const load = new LoadClient({ origin: `http://127.0.0.1:${port}`, clients: 8, postShare: 0.25, pauseMs: 5, maxDurationMs: 240_000 });
    const baseline = rssBytes(proxy!.process.pid!);
    let peak = baseline;
    load.start();
    const path = (program as { path: string }).path;
    attacks.push(startAttack(path, '-H', port), startAttack(path, '-B', port));
    const exited = Promise.all(attacks.map((a) => once(a.child, 'exit')));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      peak = Math.max(peak, rssBytes(proxy!.process.pid!));
      await sleep(250);
    }
    const report = await load.stop();

    assert.ok(report.requests > 100, `only ${report.requests} normal requests were sent`);
    assert.equal(report.failed, 0, JSON.stringify(report.failures.slice(0, 5)));
    const [slowloris, slowBody] = attacks.map((a) => a.output());
    assert.ok(wasCut(slowloris!), `the proxy cut no slowloris connection:\n${slowloris!.slice(-600)}`);
    assert.ok(wasCut(slowBody!), `the proxy cut no slow-body connection:\n${slowBody!.slice(-600)}`);
    assert.ok(peak < MAX_PROXY_RSS_BYTES, `the proxy grew to ${(peak / 1048576).toFixed(0)} MB (from ${(baseline / 1048576).toFixed(0)} MB)`);
    assert.equal(proxy!.process.exitCode, null);
    assert.doesNotMatch(proxy!.stderr(), /UNHANDLED/);
  });
});
