/**
 * The dashboard in Debian's Chromium, driven by playwright-core (no downloaded browser): log in
 * with the token, open an app, start a canary, watch the weight change on the page, press
 * promote (and confirm), see the rollout end; a wrong token is refused. A screenshot of the
 * rollout is saved under test-artifacts/. Issue 22: what another service on the same host
 * receives from the logged-in browser cannot be replayed into the API, and logout ends the
 * session on the server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { externalProgram } from './helpers/external-program.js';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';
import { repoRoot } from './helpers/repo.js';
import { sample } from './helpers/traffic.js';

const TOKEN = 'dashboard-browser-token-1f2e3d4c5b6a7988';
const chromiumProgram = externalProgram('chromium');
const ARTIFACTS = path.join(repoRoot(), 'test-artifacts');

describe('dashboard in a browser', { skip: 'skip' in chromiumProgram ? chromiumProgram.skip : false }, () => {
  let daemon: DaemonFixture;
  let browser: Browser;
  let url: string;

  /**
   * A page of the test's own, on the dashboard's login screen: a fresh browser context, so no
   * session cookie or page state carries over from another test. A CSP violation or a script
   * error lands in `pageErrors`.
   */
  async function openDashboard(t: TestContext): Promise<{ page: Page; pageErrors: string[] }> {
    // A context of its own: no session or page state carries over, and the test may open more pages in it.
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && !/401|Unauthorized/.test(message.text()) && pageErrors.push(message.text()));
    await page.goto(url);
    return { page, pageErrors };
  }

  before(async () => {
    const uiPort = await findFreePort();
    url = `http://127.0.0.1:${uiPort}/`;
    daemon = await DaemonFixture.start(
      (port) =>
        sampleAppConfig(port, {
          replicas: 1,
          strategy: 'canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: {} }], abortScaleDownDelay: 0s }',
        }),
      {
        upArgs: ['--ui', `127.0.0.1:${uiPort}`],
        beforeUp: (fixture) => {
          fs.mkdirSync(fixture.dataDir, { recursive: true, mode: 0o700 });
          fs.writeFileSync(path.join(fixture.dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
        },
      },
    );
    browser = await chromium.launch({
      executablePath: (chromiumProgram as { path: string }).path,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  });

  after(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  test('a wrong token is refused', async (t) => {
    const { page, pageErrors } = await openDashboard(t);
    await page.getByTestId('token').fill('not-the-admin-token');
    await page.getByTestId('login').click();
    await page.getByTestId('login-error').waitFor();
    assert.match(await page.getByTestId('login-error').innerText(), /not the admin token/);
    assert.equal((await page.context().cookies()).length, 0);
    assert.deepEqual(pageErrors, []);
  });

  test('log in, open the app, start a canary, watch the weight move, promote, see it end', async (t) => {
    const { page, pageErrors } = await openDashboard(t);
    await page.getByTestId('token').fill(TOKEN);
    await page.getByTestId('login').click();
    await page.getByTestId('app-web').click();
    await page.getByTestId('app-view').waitFor();
    assert.equal(await page.getByTestId('stable-revision').innerText(), '1');
    // The session is no cookie (other ports of the host would get it): the browser holds none.
    assert.deepEqual(await page.context().cookies(), []);
    await page.getByText('● live').waitFor();

    const deploy = await daemon.cli(['deploy', '--detach', '--set', 'web.run.env.VERSION=2']);
    assert.equal(deploy.code, 0, deploy.stderr);
    const traffic = page.getByTestId('traffic');
    await traffic.filter({ hasText: 'revision 2: 20%' }).waitFor({ timeout: 20_000 });
    assert.match(await traffic.innerText(), /revision 2: 20% .* revision 1: 80%/);
    await page.getByTestId('gate').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-testid=steps] li.current').innerText(), 'pause (until promoted)');

    // Some traffic, so the live chart has lines to draw.
    await sample(daemon.origin, 300, { connections: 4 });
    await page.locator('.chart canvas').nth(2).waitFor();

    await page.getByTestId('action-promote').click();
    assert.match(await page.getByTestId('confirm').innerText(), /Promote web: pass the current step or gate\?/);
    await page.getByTestId('confirm-yes').click();
    await traffic.filter({ hasText: 'revision 2: 60%' }).waitFor({ timeout: 20_000 });
    await page.getByTestId('gate').waitFor({ timeout: 20_000 });
    await sample(daemon.origin, 300, { connections: 4 });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-canary-at-60.png'), fullPage: true });

    await page.getByTestId('action-promote').click();
    await page.getByTestId('confirm-yes').click();
    await page
      .getByTestId('phase')
      .filter({ hasText: /^promoted$/ })
      .waitFor({ timeout: 20_000 });
    await page.getByTestId('stable-revision').filter({ hasText: /^2$/ }).waitFor({ timeout: 20_000 });
    assert.match(await traffic.innerText(), /^revision 2: 100%/);
    assert.equal(await page.getByTestId('action-promote').isDisabled(), true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-promoted.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });

  test('issue 22: another service on 127.0.0.1 gets nothing from the logged-in browser that opens the API; logout ends the session on the server', async (t) => {
    const { page, pageErrors } = await openDashboard(t);
    await page.getByTestId('token').fill(TOKEN);
    await page.getByTestId('login').click();
    await page.getByTestId('app-web').waitFor();
    // The user's own app, or anything else on this host, as the browser reaches it.
    const received: http.IncomingHttpHeaders[] = [];
    const other = http.createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>another service</p>');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const otherPage = await page.context().newPage();
      t.after(() => otherPage.close());
      await otherPage.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      await otherPage.evaluate(() => fetch('/again', { credentials: 'include' }).then((r) => r.text()));
    } finally {
      other.close();
      other.closeAllConnections();
    }
    assert.ok(received.length >= 2, 'the page and its fetch (and maybe a favicon) arrived');
    for (const headers of received) {
      assert.equal(headers.cookie, undefined, 'no cookie reaches another port of the host');
      assert.equal(headers['x-cutover-session'], undefined);
    }
    // Replayed as the probe did, with whatever it received and a forged Origin: refused.
    const origin = url.slice(0, -1);
    const replay = (urlPath: string, method: string, headers: Record<string, string>) =>
      fetch(`${origin}${urlPath}`, { method, headers: { origin, ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) }).then((r) => r.status);
    const stolen = { cookie: received[0]!.cookie ?? '' };
    assert.equal(await replay('/v1/apps/web/revisions', 'GET', stolen), 401);
    assert.equal(await replay('/v1/deploy', 'POST', stolen), 401);

    // The page's own session works, until logout; a copy taken before is refused afterwards.
    const session = await page.evaluate<string | null>('sessionStorage.getItem("cutover-session")');
    assert.ok(session);
    assert.equal(await replay('/v1/apps', 'GET', { 'x-cutover-session': session }), 200);
    await page.getByText('Log out').click();
    await page.getByTestId('token').waitFor();
    assert.equal(await page.evaluate<string | null>('sessionStorage.getItem("cutover-session")'), null);
    assert.equal(await replay('/v1/apps', 'GET', { 'x-cutover-session': session }), 401);
    assert.deepEqual(pageErrors, []);
  });
});
