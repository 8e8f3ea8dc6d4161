import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isAlive } from '../src/daemon/daemon-lock.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, waitFor } from './helpers/daemon-fixture.js';
import { MODULE_LOG_DIR_ENV } from './helpers/module-log.js';

/** What each process of the daemon loaded, by role, as `helpers/module-log.ts` wrote it. */
class LoadedModules {
  constructor(private readonly dir: string) {}

  /** Every module URL of the one live process whose entry script is `entry`. */
  of(entry: string): string[] {
    const pids = fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.argv'))
      .map((f) => ({ pid: f.slice(0, -'.argv'.length), argv: JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as string[] }))
      .filter(({ pid, argv }) => path.basename(argv[1] ?? '') === entry && isAlive(Number(pid)));
    assert.ok(pids.length > 0, `no live ${entry} process wrote its module list`);
    return pids.flatMap(({ pid }) => [...this.read(`${pid}.esm`), ...this.read(`${pid}.cjs`).map((file) => `file://${file}`)]);
  }

  private read(name: string): string[] {
    const file = path.join(this.dir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }
}

/** The npm packages among module URLs. */
function packagesIn(urls: readonly string[]): Set<string> {
  return new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
}

function get(url: string, init: http.RequestOptions = {}, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, init, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('a daemon loads what its setup needs and no more (issue 25)', () => {
  it('a plain HTTP app: the primary loads no package, the workers no undici (nor TLS, HTTP/2 or the front door), the controller no prom-client, zod, yaml or tar until a feature needs them', async (t) => {
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-modules-'));
    const metricsPort = await findFreePort();
    const hook = new URL('./helpers/module-log.js', import.meta.url).href;
    const daemon = await DaemonFixture.start((port) => `${sampleAppConfig(port, { replicas: 1 })}\nmetrics: { listen: 127.0.0.1:${metricsPort} }\n`, {
      env: { NODE_OPTIONS: `--import=${hook}`, [MODULE_LOG_DIR_ENV]: logDir },
    });
    // The daemon first: its processes write into the log dir until they are gone.
    t.after(async () => {
      await daemon.stop();
      fs.rmSync(logDir, { recursive: true, force: true });
    });
    const modules = new LoadedModules(logDir);
    // Plain requests take the fast lane of whichever worker the kernel picks.
    for (let n = 0; n < 20; n++) assert.equal(await get(daemon.origin), 200);

    const primary = modules.of('daemon-main.js');
    assert.ok(
      primary.some((url) => url.endsWith('/daemon/primary.js')),
      'the primary wrote its list (precondition)',
    );
    assert.deepEqual([...packagesIn(primary)], [], 'the primary loads no npm package');

    const workers = modules.of('worker-main.js');
    assert.ok(
      workers.some((url) => url.endsWith('/proxy/proxy-server.js')),
      'the workers wrote their lists (precondition)',
    );
    for (const name of ['undici', '@kubernetes/client-node', 'acme-client', 'prom-client', 'zod', 'yaml'])
      assert.ok(!packagesIn(workers).has(name), `a worker loaded ${name}`);
    // Without shared listeners (proxy.listen) a worker holds no TLS, HTTP/2 or front door.
    assert.ok(workers.includes('node:http'), 'the lists name the builtins loaded from ES modules (precondition)');
    for (const builtin of ['node:tls', 'node:http2', 'node:crypto']) assert.ok(!workers.includes(builtin), `a worker loaded ${builtin}`);
    assert.ok(!workers.some((url) => url.includes('/proxy/front-door/front-door.js')), 'a worker loaded the front door');

    const controller = modules.of('controller-main.js');
    assert.ok(packagesIn(controller).has('better-sqlite3'), 'the controller list has its CommonJS packages (precondition)');
    for (const name of ['prom-client', 'zod', 'yaml', 'tar', 'undici', '@kubernetes/client-node', 'acme-client'])
      assert.ok(!packagesIn(controller).has(name), `the controller loaded ${name}`);

    // When a feature needs them, they load: the first scrape loads prom-client, a chunked request (strict lane) undici.
    assert.equal(await get(`http://127.0.0.1:${metricsPort}/metrics`), 200);
    await waitFor('prom-client in the controller', () => packagesIn(modules.of('controller-main.js')).has('prom-client'));
    assert.equal(await get(daemon.origin, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, 'hello'), 200);
    await waitFor('undici in a worker', () => packagesIn(modules.of('worker-main.js')).has('undici'));
  });
});
