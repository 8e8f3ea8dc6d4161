import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TrafficPlan } from '../model/traffic-plan.js';
import { LastPlans, lastPlansFile } from './last-plans.js';

function plan(app: string, ports: number[], version = 3): TrafficPlan {
  return {
    app,
    version,
    listen: { host: '127.0.0.1', port: 8080 },
    groups: [{ revision: 1, weight: 100, endpoints: ports.map((port, n) => ({ id: `${app}-1-${n}`, host: '127.0.0.1', port })) }],
  };
}

async function listening(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function closedPort(): Promise<number> {
  const { port, close } = await listening();
  close();
  return port;
}

function scratch(): string {
  return lastPlansFile(fs.mkdtempSync(path.join(os.tmpdir(), 'co-plans-')));
}

const quiet = { log: () => {}, drop: () => {} };

describe('LastPlans: the primary serves the instances that outlived a crash at once', () => {
  it('keeps the plans in a 0600 file and restores those whose every endpoint accepts connections', async () => {
    const up = await listening();
    try {
      const file = scratch();
      const gone = await closedPort();
      new LastPlans(file).save([plan('web', [up.port]), plan('api', [up.port, gone])]);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const plans = new Map<string, TrafficPlan>();
      const versions = new Map<string, number>();
      const lines: string[] = [];
      await new LastPlans(file).restore({ plans, versions, isWanted: true, log: (line) => lines.push(line), drop: () => {} });
      assert.deepEqual([...plans.keys()], ['web'], 'api has an endpoint that no longer listens: it waits for the controller');
      assert.equal(versions.get('web'), 3, "the controller's next plan is newer");
      assert.match(lines.join('\n'), /serving the last plans of web/);
    } finally {
      up.close();
    }
  });

  it('leaves a plan the controller pushed first, restores nothing for a restart, and reads no file, a bad file or bad plans as none', async () => {
    const up = await listening();
    try {
      const file = scratch();
      new LastPlans(file).save([plan('web', [up.port])]);
      const pushed = plan('web', [up.port], 9);
      const plans = new Map([['web', pushed]]);
      await new LastPlans(file).restore({ plans, versions: new Map(), isWanted: true, ...quiet });
      assert.equal(plans.get('web'), pushed);
      const forRestart = new Map<string, TrafficPlan>();
      await new LastPlans(file).restore({ plans: forRestart, versions: new Map(), isWanted: false, ...quiet });
      assert.equal(forRestart.size, 0);
      assert.deepEqual(await new LastPlans(scratch()).readServable(), []);
      fs.writeFileSync(file, '{not json');
      assert.deepEqual(await new LastPlans(file).readServable(), []);
      const bootId = fs.existsSync('/proc/sys/kernel/random/boot_id') ? fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : null;
      fs.writeFileSync(file, JSON.stringify({ bootId, plans: [{ app: 'web', groups: 'x' }, plan('empty', [])] }));
      assert.deepEqual(await new LastPlans(file).readServable(), []);
    } finally {
      up.close();
    }
  });

  it('serves nothing saved in another boot of the machine: after a reboot a listening port may belong to anyone', async () => {
    const up = await listening();
    try {
      const file = scratch();
      new LastPlans(file).save([plan('web', [up.port])]);
      assert.equal((await new LastPlans(file).readServable(undefined, 'this-boot')).length, 0);
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { bootId: string | null };
      assert.equal((await new LastPlans(file).readServable(undefined, saved.bootId)).length, 1, 'the same boot serves it');
    } finally {
      up.close();
    }
  });

  it('a clean stop removes the file', () => {
    const file = scratch();
    const lastPlans = new LastPlans(file);
    lastPlans.save([plan('web', [1])]);
    lastPlans.remove();
    assert.equal(fs.existsSync(file), false);
  });

  it("tells a restart's new daemon which apps the old one served on the front door, whatever their endpoints", () => {
    const file = scratch();
    const onFrontDoor = { ...plan('shop', [1]), frontDoor: { hosts: ['shop.example.test'], paths: ['/'], tls: false as const } };
    new LastPlans(file).save([plan('admin', [1]), onFrontDoor]);
    assert.deepEqual(new LastPlans(file).frontDoorApps(), ['shop']);
    assert.deepEqual(new LastPlans(file).frontDoorApps('another-boot'), [], 'plans of another boot name no app');
    assert.deepEqual(new LastPlans(scratch()).frontDoorApps(), [], 'no file: no app');
  });

  it('names every instance the saved plans route to, once (a restart holds them while the old daemon drains)', () => {
    const file = scratch();
    new LastPlans(file).save([plan('web', [1, 2]), plan('api', [3])]);
    assert.deepEqual(new LastPlans(file).endpointIds(), ['web-1-0', 'web-1-1', 'api-1-0']);
    assert.deepEqual(new LastPlans(file).endpointIds('another-boot'), []);
    assert.deepEqual(new LastPlans(scratch()).endpointIds(), []);
  });

  it('writes the plans once for every change of a turn of the event loop, with all of them (issue 25: up pushes 100 first plans at once)', async () => {
    const file = scratch();
    const lastPlans = new LastPlans(file);
    const plans = new Map<string, TrafficPlan>();
    let writes = 0;
    for (const app of ['web', 'api', 'admin']) {
      plans.set(app, plan(app, [1]));
      lastPlans.saveSoon(() => (writes++, plans.values()), app);
    }
    assert.equal(fs.existsSync(file), false, 'nothing written within the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writes, 1);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { plans: TrafficPlan[] };
    assert.deepEqual(
      saved.plans.map((p) => p.app),
      ['web', 'api', 'admin'],
    );
  });

  it('a clean stop cancels a write not done yet', async () => {
    const file = scratch();
    const lastPlans = new LastPlans(file);
    lastPlans.saveSoon(() => [plan('web', [1])], 'web');
    lastPlans.remove();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fs.existsSync(file), false);
  });
});
