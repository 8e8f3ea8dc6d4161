import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProxyServer } from '../proxy/index.js';
import type { HostPort } from '../model/app-spec.js';
import { haproxySkip, killLeftoverHaproxy, TestHaproxy } from '../../test/helpers/haproxy.js';
import { findPortBelowEphemeral } from '../../test/helpers/port-below-ephemeral.js';
import { CONTRACT_APPS, CONTRACT_RULES, describeTrafficRouterContract, type ContractApp } from '../../test/contracts/traffic-router.contract.js';
import { HaproxyRouter } from './haproxy/haproxy-router.js';
import { renderExternalExample } from '../../test/helpers/haproxy-external-example.js';
import type { TrafficRouter } from './traffic-router.js';

/** The apps' addresses, picked before the first test and bound only when each app's test runs. */
async function addresses(): Promise<Record<ContractApp, HostPort>> {
  const entries = await Promise.all(CONTRACT_APPS.map(async (app) => [app, { host: '127.0.0.1', port: await findPortBelowEphemeral() }] as const));
  return Object.fromEntries(entries) as Record<ContractApp, HostPort>;
}

/** The built-in proxy, in process: the same ProxyServer every worker runs. */
describeTrafficRouterContract('built-in proxy', async () => {
  const proxy = new ProxyServer({ closeTimeoutMs: 2_000 });
  // Numbers plans per app, as the primary does for its workers.
  let version = 0;
  const router: TrafficRouter = {
    applyPlan: (p) => proxy.applyPlan({ ...p, version: ++version }),
    removeApp: (a) => proxy.removeApp(a),
    inflight: async () => proxy.inflight(),
  };
  const at = await addresses();
  return { router, addressOf: (app) => at[app], close: () => proxy.close() };
});

describeTrafficRouterContract(
  'HAProxy, managed',
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-hap-'));
    const router = new HaproxyRouter({ mode: 'managed', stateDir: dir, backendOf: (app) => `cutover_${app}`, serverSlots: 8 });
    const at = await addresses();
    return {
      router,
      addressOf: (app) => at[app],
      close: async () => {
        await router.close();
        killLeftoverHaproxy(dir);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { skip: haproxySkip },
);

describeTrafficRouterContract(
  'HAProxy, external (an existing HAProxy with server-template slots and maps)',
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'co-hax-'));
    const at = await addresses();
    const statsSocket = path.join(dir, 'admin.sock');
    const mapsDir = path.join(dir, 'maps');
    fs.mkdirSync(mapsDir);
    const config = renderExternalExample({
      statsSocket,
      mapsDir,
      apps: CONTRACT_APPS.map((app) => ({
        backend: `be_${app}`,
        listen: at[app],
        headerNames: [CONTRACT_RULES.header],
        cookieNames: [CONTRACT_RULES.cookie],
        stickyCookie: CONTRACT_RULES.stickyCookie,
        previews: [],
      })),
      serverSlots: 8,
    });
    for (const file of config.mapFiles) fs.writeFileSync(file, '');
    fs.writeFileSync(path.join(dir, 'haproxy.cfg'), config.text);
    const haproxy = await TestHaproxy.start(path.join(dir, 'haproxy.cfg'), statsSocket);
    const router = new HaproxyRouter({ mode: 'external', socket: statsSocket, stateDir: path.join(dir, 'state'), backendOf: (app) => `be_${app}` });
    return {
      router,
      addressOf: (app) => at[app],
      close: async () => {
        await router.close();
        await haproxy.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { skip: haproxySkip },
);
