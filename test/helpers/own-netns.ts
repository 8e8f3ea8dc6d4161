import { execFileSync, spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { externalProgram } from './external-program.js';
import type { SkipRecord } from './skip-reporter.js';

/**
 * Tests that need a network interface beyond loopback (a container bridge) run in a network
 * namespace of their own: the test file runs itself again under `unshare --net --mount`, with
 * this variable set, and there brings `lo` up and starts what it needs. Every interface, address
 * and firewall rule made there lives and dies with that namespace, and so does a fresh /run
 * (where podman keeps its network state and container namespaces): the machine's own network
 * and /run are never touched.
 */
const OWN_NETNS_ENV = 'CUTOVER_TEST_OWN_NETNS';

/** The bridges the engines make in the namespace; they must never appear on the machine. */
const ENGINE_BRIDGES = ['docker0', 'podman0'];

/**
 * How long the whole run in the namespace may take (the engine starts, images are imported,
 * deploys run under load): within `npm test`'s 240 s per file, so a run that hangs fails here,
 * with its output, rather than the whole file being cut off.
 */
const RUN_IN_NETNS_TIMEOUT_MS = 200_000;

export function insideOwnNetns(): boolean {
  return (process.env[OWN_NETNS_ENV] ?? '') !== '';
}

/** Throws unless this process runs in network and mount namespaces other than the machine's (as the run on the machine named them). */
export function assertInsideOwnNetns(): void {
  if (!insideOwnNetns()) throw new Error(`a bridge is made only in a network namespace of the test's own (${OWN_NETNS_ENV} set, under unshare --net)`);
  if (process.env[OWN_NETNS_ENV] === machineNamespaces())
    throw new Error(`${OWN_NETNS_ENV} is set, but this process shares the machine's network or mount namespace`);
}

/** This process's network and mount namespaces, as /proc names them. */
function machineNamespaces(): string {
  return `${fs.readlinkSync('/proc/self/ns/net')} ${fs.readlinkSync('/proc/self/ns/mnt')}`;
}

/** In the test's own namespaces: `lo` starts down there, and /run is made empty and private (it goes with the namespace). */
export function enterOwnNamespace(): void {
  assertInsideOwnNetns();
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'cutover-test-run', '/run']);
}

/**
 * On the machine: one test that runs `file` (this compiled test file) again with node --test in
 * new network and mount namespaces, streams its output, and passes when that run passed. It skips with
 * the inner run's reasons when the inner run skipped (under CUTOVER_REQUIRE_EXTERNAL=1 the
 * inner run fails instead), checks that no process is left in the namespace (so it is gone) and
 * that no engine bridge appeared on the machine.
 */
export function describeInOwnNetns(title: string, file: string): void {
  describe(title, () => {
    it('runs in network, mount and PID namespaces of its own (unshare), leaving nothing behind', { timeout: RUN_IN_NETNS_TIMEOUT_MS + 20_000 }, async (t) => {
      for (const [program, pkg] of [
        ['unshare', 'util-linux'],
        ['ip', 'iproute2'],
        ['mount', 'mount'],
      ] as const) {
        const found = externalProgram(program, pkg);
        if ('skip' in found) return t.skip(found.skip);
      }
      const linksBefore = hostLinks();
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'netns-'));
      t.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
      const skipLog = path.join(scratch, 'skipped.jsonl');
      const reporter = fileURLToPath(new URL('./skip-reporter.js', import.meta.url));
      const child = spawn(
        'unshare',
        [
          '--net',
          // A mount namespace of its own too (private propagation): the /run it mounts and every engine mount go with it.
          '--mount',
          // And a PID namespace: when its first process ends, the kernel ends every other one in it, containers included.
          '--pid',
          '--mount-proc',
          '--fork',
          // If unshare dies, so does the run in the namespace.
          '--kill-child',
          '--',
          // bash as the namespace's first process reaps the orphans (node would leave them zombies, which look alive);
          // `; exit` keeps it from exec'ing node in its place.
          'bash',
          '-c',
          '"$@"; exit $?',
          'netns-init',
          process.execPath,
          '--test',
          '--test-concurrency=1',
          `--test-timeout=${RUN_IN_NETNS_TIMEOUT_MS - 10_000}`,
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          `--test-reporter=${reporter}`,
          '--test-reporter-destination=stdout',
          fileURLToPath(file),
        ],
        { env: innerEnv(scratch, skipLog), stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      const output: string[] = [];
      const print = (chunk: Buffer): void => {
        for (const line of chunk.toString().split('\n')) {
          if (line.trim() === '') continue;
          output.push(line);
          console.log(`[netns] ${line}`);
        }
      };
      child.stdout.on('data', print);
      child.stderr.on('data', print);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = setTimeout(() => killGroup(child.pid), RUN_IN_NETNS_TIMEOUT_MS);
      t.after(() => {
        clearTimeout(timer);
        killGroup(child.pid);
      });
      const netns = await namespaceOf(child.pid!, exited);
      const code = await exited;
      clearTimeout(timer);
      const left = netns === null ? [] : processesIn(netns);
      for (const pid of left) killQuietly(pid);
      assert.ok(netns !== null || code !== 0, 'the namespace was seen');
      if (/unshare failed/.test(output.join('\n')) && code !== 0) {
        const reason = `unshare --net --mount --pid does not work here: ${output.slice(-2).join(' ')}`;
        if (process.env.CUTOVER_REQUIRE_EXTERNAL === '1') assert.fail(`${reason}, and CUTOVER_REQUIRE_EXTERNAL=1 requires it`);
        return t.skip(reason);
      }
      assert.equal(code, 0, `the run in the namespace failed (exit ${code}); its output is above`);
      assert.match(output.join('\n'), /tests [1-9]/, 'the run in the namespace ran its tests');
      assert.deepEqual(left, [], 'no process is left in the namespace');
      // Other tests may add and remove interfaces of their own meanwhile: only the engines' bridges are ours to look for.
      const appeared = hostLinks().filter((name) => !linksBefore.includes(name));
      if (appeared.length > 0) console.log(`[netns] interfaces that appeared on the machine meanwhile (not from this run's engines): ${appeared.join(', ')}`);
      assert.deepEqual(
        appeared.filter((name) => ENGINE_BRIDGES.includes(name)),
        [],
        "no engine bridge on the machine's network",
      );
      const skipped = fs.existsSync(skipLog)
        ? fs
            .readFileSync(skipLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as SkipRecord)
        : [];
      if (skipped.length > 0) t.skip(`in the namespace: ${skipped.map((s) => `"${s.name}": ${s.reason}`).join('; ')}`);
    });
  });
}

/**
 * The inner run's environment: not a subtest of this run (node would refuse to run the file), its
 * skips written for us, its temp files (engine data, daemon data dirs) in our scratch dir, so a
 * run cut off leaves none behind either.
 */
function innerEnv(scratch: string, skipLog: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, [OWN_NETNS_ENV]: machineNamespaces(), CUTOVER_SKIP_LOG: skipLog, NO_COLOR: '1', TMPDIR: scratch };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

/** The machine's interfaces by name. */
function hostLinks(): string[] {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/** The child's network namespace once unshare has made it; null if it exited first. */
async function namespaceOf(pid: number, exited: Promise<unknown>): Promise<string | null> {
  const ours = fs.readlinkSync('/proc/self/ns/net');
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    try {
      const theirs = fs.readlinkSync(`/proc/${pid}/ns/net`);
      if (theirs !== ours) return theirs;
    } catch {
      return null;
    }
    await sleep(20);
  }
  return null;
}

/** PIDs of every process in the network namespace `netns` (as /proc/<pid>/ns/net names it). */
function processesIn(netns: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/net`) === netns) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

function killGroup(pid: number | undefined): void {
  if (pid !== undefined) killQuietly(-pid);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
