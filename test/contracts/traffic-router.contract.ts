import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { HostPort } from '../../src/model/app-spec.js';
import type { Endpoint, TrafficPlan } from '../../src/model/traffic-plan.js';
import type { TrafficRouter } from '../../src/router/traffic-router.js';
import { waitFor } from '../helpers/daemon-fixture.js';
import { sample, type Sample } from '../helpers/traffic.js';

/** The apps the contract uses; an external data plane must know them in advance. */
export const CONTRACT_APPS = ['weights', 'drain', 'routes', 'sticky', 'abort', 'switch'] as const;
export type ContractApp = (typeof CONTRACT_APPS)[number];
/** The route header and cookie and the sticky cookie the contract's plans use. */
export const CONTRACT_RULES = { header: 'x-beta', cookie: 'beta', stickyCookie: 'co-sticky' } as const;

export interface RouterUnderTest {
  router: TrafficRouter;
  /** Where the app is served: the plan's listen address (and, for an external data plane, its frontend). */
  addressOf(app: ContractApp): HostPort;
  close(): Promise<void>;
}

/** A local upstream that names its revision and can hold requests to /hold until released. */
class Upstream {
  readonly held: http.ServerResponse[] = [];
  constructor(
    readonly revision: number,
    readonly server: http.Server,
  ) {}

  static async start(revision: number): Promise<Upstream> {
    const server = http.createServer();
    const upstream = new Upstream(revision, server);
    server.on('request', (req, res) => {
      res.setHeader('x-cutover-revision', String(revision));
      if (req.url === '/hold') upstream.held.push(res);
      else res.end(`revision ${revision}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return upstream;
  }

  endpoint(id: string): Endpoint {
    return { id, host: '127.0.0.1', port: (this.server.address() as AddressInfo).port };
  }

  release(): void {
    for (const res of this.held.splice(0)) res.end('released\n');
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function send(origin: string, count: number, headers: Record<string, string> = {}, connections = 4): Promise<Sample> {
  return sample(origin, count, { headers, connections });
}

/**
 * The contract every `TrafficRouter` keeps, run against the built-in proxy and HAProxy: weights,
 * draining, routes, sticky assignment, abort and the atomicity of a switch, each checked with
 * real HTTP requests through the data plane to real local upstreams.
 */
export function describeTrafficRouterContract(
  name: string,
  create: () => Promise<RouterUnderTest>,
  options: { skip?: string | false; todo?: Partial<Record<'routes' | 'sticky', string>> } = {},
): void {
  describe(`TrafficRouter contract: ${name}`, { skip: options.skip ?? false }, () => {
    let subject: RouterUnderTest;
    const upstreams: Upstream[] = [];
    before(async () => {
      subject = await create();
    });
    after(async () => {
      await subject?.close();
      await Promise.all(upstreams.map((u) => u.close()));
    });

    const upstream = async (revision: number): Promise<Upstream> => {
      const started = await Upstream.start(revision);
      upstreams.push(started);
      return started;
    };
    const origin = (app: ContractApp): string => {
      const { host, port } = subject.addressOf(app);
      return `http://${host}:${port}`;
    };
    const plan = (app: ContractApp, groups: TrafficPlan['groups'], extra: Partial<TrafficPlan> = {}): TrafficPlan => ({
      app,
      version: 0,
      listen: subject.addressOf(app),
      groups,
      ...extra,
    });

    it('splits traffic by group weight, whatever the number of endpoints per group', async () => {
      const [a, b1, b2] = [await upstream(1), await upstream(2), await upstream(2)];
      await subject.router.applyPlan(
        plan('weights', [
          { revision: 2, weight: 25, endpoints: [b1.endpoint('w-2-a'), b2.endpoint('w-2-b')] },
          { revision: 1, weight: 75, endpoints: [a.endpoint('w-1-a')] },
        ]),
      );
      const answers = await send(origin('weights'), 1_000);
      assert.equal(answers.byRevision['failed'], undefined);
      const share = ((answers.byRevision['2'] ?? 0) / 1_000) * 100;
      assert.ok(Math.abs(share - 25) <= 3, `revision 2 got ${share}% at weight 25`);
      await subject.router.removeApp('weights');
    });

    it('drains a leaving endpoint: no new request reaches it, and it counts in flight until its requests finish', async () => {
      const [old, next] = [await upstream(1), await upstream(2)];
      await subject.router.applyPlan(plan('drain', [{ revision: 1, weight: 100, endpoints: [old.endpoint('d-1')] }]));
      const pool = new Pool(origin('drain'), { connections: 2 });
      const held = pool.request({ path: '/hold', method: 'GET' });
      await waitFor('the held request to arrive', () => old.held.length === 1);
      await subject.router.applyPlan(plan('drain', [{ revision: 2, weight: 100, endpoints: [next.endpoint('d-2')] }]));
      assert.equal((await subject.router.inflight())['d-1'], 1, 'the held request counts on the leaving endpoint');
      assert.deepEqual((await send(origin('drain'), 100)).byRevision, { 2: 100 });
      old.release();
      const response = await held;
      assert.equal(response.statusCode, 200);
      assert.equal(await response.body.text(), 'released\n');
      await waitFor('the leaving endpoint to count nothing in flight', async () => !(await subject.router.inflight())['d-1']);
      await pool.close();
      await subject.router.removeApp('drain');
    });

    it('sends header and cookie routes to their revision, first match first, whatever its weight', { todo: options.todo?.routes }, async () => {
      const [stable, canary] = [await upstream(1), await upstream(2)];
      await subject.router.applyPlan(
        plan(
          'routes',
          [
            { revision: 2, weight: 0, endpoints: [canary.endpoint('r-2')] },
            { revision: 1, weight: 100, endpoints: [stable.endpoint('r-1')] },
          ],
          {
            routes: [
              { revision: 2, match: { header: { name: CONTRACT_RULES.header, value: '1' } } },
              { revision: 2, match: { cookie: { name: CONTRACT_RULES.cookie, value: 'yes' } } },
            ],
          },
        ),
      );
      assert.deepEqual((await send(origin('routes'), 50, { [CONTRACT_RULES.header]: '1' })).byRevision, { 2: 50 });
      assert.deepEqual((await send(origin('routes'), 50, { cookie: `theme=dark; ${CONTRACT_RULES.cookie}=yes` })).byRevision, { 2: 50 });
      assert.deepEqual((await send(origin('routes'), 50, { [CONTRACT_RULES.header]: '0' })).byRevision, { 1: 50 });
      assert.deepEqual((await send(origin('routes'), 50)).byRevision, { 1: 50 });
      await subject.router.removeApp('routes');
    });

    it('keeps a sticky client on its side while the canary weight grows', { todo: options.todo?.sticky }, async () => {
      const [stable, canary] = [await upstream(1), await upstream(2)];
      const sticky = { cookie: CONTRACT_RULES.stickyCookie, ttlMs: 3_600_000 };
      await subject.router.applyPlan(
        plan(
          'sticky',
          [
            { revision: 2, weight: 30, endpoints: [canary.endpoint('s-2')] },
            { revision: 1, weight: 70, endpoints: [stable.endpoint('s-1')] },
          ],
          { sticky },
        ),
      );
      const first = await send(origin('sticky'), 200);
      assert.equal(first.byRevision['failed'], undefined);
      assert.ok(
        first.setCookies.length === 200 && first.setCookies.every((c) => c.startsWith(`${CONTRACT_RULES.stickyCookie}=`) && /Max-Age=3600/.test(c)),
        first.setCookies[0],
      );
      // Sort the cookies by side, then grow the canary: canary clients stay, stable clients stay or move to the canary.
      const sides = new Map<string, string>();
      for (const setCookie of first.setCookies.slice(0, 40)) {
        const cookie = setCookie.split(';')[0]!;
        const seen = await send(origin('sticky'), 5, { cookie }, 1);
        assert.equal(Object.keys(seen.byRevision).length, 1, `a client with ${cookie} saw ${JSON.stringify(seen.byRevision)}`);
        sides.set(cookie, Object.keys(seen.byRevision)[0]!);
      }
      assert.ok([...sides.values()].includes('2') && [...sides.values()].includes('1'), 'clients landed on both sides');
      await subject.router.applyPlan(
        plan(
          'sticky',
          [
            { revision: 2, weight: 60, endpoints: [canary.endpoint('s-2')] },
            { revision: 1, weight: 40, endpoints: [stable.endpoint('s-1')] },
          ],
          { sticky },
        ),
      );
      for (const [cookie, side] of sides) {
        if (side === '2') assert.deepEqual((await send(origin('sticky'), 5, { cookie }, 1)).byRevision, { 2: 5 });
      }
      await subject.router.removeApp('sticky');
    });

    it('after an abort plan is applied, no request reaches the aborted revision, not by route or sticky cookie either', async () => {
      const [stable, canary] = [await upstream(1), await upstream(2)];
      const sticky = { cookie: CONTRACT_RULES.stickyCookie, ttlMs: 60_000 };
      const routes = [{ revision: 2, match: { header: { name: CONTRACT_RULES.header, value: '1' } } }];
      await subject.router.applyPlan(
        plan(
          'abort',
          [
            { revision: 2, weight: 50, endpoints: [canary.endpoint('a-2')] },
            { revision: 1, weight: 50, endpoints: [stable.endpoint('a-1')] },
          ],
          options.todo?.routes || options.todo?.sticky ? {} : { routes, sticky },
        ),
      );
      const before = await send(origin('abort'), 100);
      assert.ok((before.byRevision['2'] ?? 0) > 0, 'the canary served before the abort');
      const canaryCookies = before.setCookies.map((c) => c.split(';')[0]!);
      await subject.router.applyPlan(plan('abort', [{ revision: 1, weight: 100, endpoints: [stable.endpoint('a-1')] }]));
      assert.deepEqual((await send(origin('abort'), 200)).byRevision, { 1: 200 });
      assert.deepEqual((await send(origin('abort'), 50, { [CONTRACT_RULES.header]: '1' })).byRevision, { 1: 50 });
      for (const cookie of canaryCookies.slice(0, 10)) assert.deepEqual((await send(origin('abort'), 3, { cookie }, 1)).byRevision, { 1: 3 });
      await subject.router.removeApp('abort');
    });

    it('switches all traffic at once: once applyPlan resolves every new request reaches green, and none fails meanwhile', async () => {
      const blue = [await upstream(1), await upstream(1)];
      const green = [await upstream(2), await upstream(2)];
      const blueGroup = { revision: 1, endpoints: blue.map((u, i) => u.endpoint(`sw-1-${i}`)) };
      const greenGroup = { revision: 2, endpoints: green.map((u, i) => u.endpoint(`sw-2-${i}`)) };
      await subject.router.applyPlan(
        plan('switch', [
          { ...blueGroup, weight: 100 },
          { ...greenGroup, weight: 0 },
        ]),
      );
      assert.deepEqual((await send(origin('switch'), 100)).byRevision, { 1: 100 });
      // Load before, during and after the switch.
      let isRunning = true;
      const batches: { startedAt: number; endedAt: number }[] = [];
      const during = (async () => {
        const seen: Sample[] = [];
        while (isRunning) {
          const startedAt = performance.now();
          seen.push(await send(origin('switch'), 40, {}, 8));
          batches.push({ startedAt, endedAt: performance.now() });
        }
        return seen;
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const switchStartedAt = performance.now();
      await subject.router.applyPlan(
        plan('switch', [
          { ...greenGroup, weight: 100 },
          { ...blueGroup, weight: 0 },
        ]),
      );
      const switchEndedAt = performance.now();
      const after = await send(origin('switch'), 400, {}, 8);
      isRunning = false;
      const seen = await during;
      assert.deepEqual(after.byRevision, { 2: 400 });
      // The claim "none fails meanwhile" needs requests that were in flight while the switch ran.
      assert.ok(
        batches.some((b) => b.startedAt < switchEndedAt && b.endedAt > switchStartedAt),
        `no request was in flight during the switch (${batches.length} batches, none overlapping it)`,
      );
      assert.ok(seen.reduce((sum, a) => sum + (a.byRevision['1'] ?? 0), 0) > 0, 'the load reached blue before the switch');
      assert.equal(
        seen.reduce((sum, a) => sum + (a.byRevision['failed'] ?? 0), 0),
        0,
        'no request failed during the switch',
      );
      await subject.router.removeApp('switch');
    });
  });
}
