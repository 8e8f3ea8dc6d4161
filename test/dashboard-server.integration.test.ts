/**
 * The dashboard's listener (`cutover up --ui`) at the HTTP level: the page and bundle with a
 * CSP without unsafe-inline, the login that turns the token into a session sent in a header
 * (never a cookie, issue 22), the API behind that session, logout that ends it on the server,
 * and the refusals (no session, foreign Host, a state-changing request without our Origin or
 * with another one), and --ui off loopback.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig } from './helpers/daemon-fixture.js';

const TOKEN = 'dashboard-server-token-9a8b7c6d5e4f3a2b';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string, readFor?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        // An event stream does not end: stop once it said enough.
        if (readFor !== undefined && text.length >= readFor) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          req.destroy();
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('dashboard listener', () => {
  let daemon: DaemonFixture;
  let port: number;
  let origin: string;

  /** Logs in with the token; the session header as the dashboard page sends it. */
  async function logIn(): Promise<Record<string, string>> {
    const answer = await request(port, 'POST', '/login', { origin, 'content-type': 'application/json' }, JSON.stringify({ token: TOKEN }));
    assert.equal(answer.status, 200);
    return { 'x-cutover-session': (JSON.parse(answer.body) as { session: string }).session };
  }

  before(async () => {
    port = await findFreePort();
    origin = `http://127.0.0.1:${port}`;
    daemon = await DaemonFixture.start((appPort) => sampleAppConfig(appPort, { replicas: 1 }), {
      upArgs: ['--ui', `127.0.0.1:${port}`],
      beforeUp: (fixture) => {
        fs.mkdirSync(fixture.dataDir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(fixture.dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
      },
    });
  });

  after(async () => daemon?.stop());

  test('serves the page and its bundle with a CSP that allows no inline script or style', async () => {
    const page = await request(port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/assets\/app.js"><\/script>/);
    assert.doesNotMatch(page.body, /<script>|<style>| style="/, 'no inline code in the page');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    for (const asset of ['/assets/app.js', '/assets/app.css']) {
      const answer = await request(port, 'GET', asset);
      assert.equal(answer.status, 200, asset);
      assert.ok(answer.body.length > 1000, asset);
    }
    assert.equal((await request(port, 'GET', '/assets/..%2Fdaemon.pid')).status, 404);
    assert.equal((await request(port, 'GET', '/nope')).status, 404);
  });

  test('the API answers 401 without a session; a wrong token does not log in', async () => {
    assert.equal((await request(port, 'GET', '/v1/apps')).status, 401);
    const wrong = await request(port, 'POST', '/login', { origin, 'content-type': 'application/json' }, JSON.stringify({ token: 'not-the-token-at-all' }));
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.body, /session/);
    assert.equal((await request(port, 'GET', '/v1/apps', { 'x-cutover-session': 'A'.repeat(43) })).status, 401, 'a forged session');
  });

  test('issue 22: the token logs in to a session in a header, never a cookie; the API and the event stream take it', async () => {
    const foreign = await request(
      port,
      'POST',
      '/login',
      { origin: 'http://attacker.example', 'content-type': 'application/json' },
      JSON.stringify({ token: TOKEN }),
    );
    assert.equal(foreign.status, 403, 'a login from another site');
    const answer = await request(port, 'POST', '/login', { origin, 'content-type': 'application/json' }, JSON.stringify({ token: TOKEN }));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['cache-control'], 'no-store');
    // The one cookie it sets tells a browser to forget the session cookie of earlier versions.
    assert.deepEqual(answer.headers['set-cookie'], ['cutover_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0']);
    const { session: value, expiresInMs } = JSON.parse(answer.body) as { session: string; expiresInMs: number };
    assert.match(value, /^[\w-]{43}$/);
    assert.equal(expiresInMs, 12 * 3600_000);
    assert.ok(!answer.body.includes(TOKEN));
    const session = { 'x-cutover-session': value };
    const apps = await request(port, 'GET', '/v1/apps', session);
    assert.equal(apps.status, 200);
    assert.equal(JSON.parse(apps.body).apps[0].name, 'web');
    // What earlier versions accepted, the session in a cookie, is refused.
    assert.equal((await request(port, 'GET', '/v1/apps', { cookie: `cutover_session=${value}` })).status, 401);
    const stream = await request(port, 'GET', '/v1/events', { ...session, accept: 'text/event-stream' }, undefined, 60);
    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.match(stream.body, /event: metrics\ndata: \{"at":/);
  });

  test('a state change needs the session and our own Origin; a foreign Host is refused', async () => {
    const session = await logIn();
    const noOrigin = await request(port, 'POST', '/v1/apps/web/pause', session);
    assert.equal(noOrigin.status, 403);
    assert.equal(JSON.parse(noOrigin.body).code, 'ADMIN_ORIGIN_NOT_ALLOWED');
    const foreign = await request(port, 'POST', '/v1/apps/web/pause', { ...session, origin: 'http://attacker.example' });
    assert.equal(foreign.status, 403);
    const own = await request(port, 'POST', '/v1/apps/web/pause', { ...session, origin });
    assert.equal(own.status, 409, own.body);
    assert.equal(JSON.parse(own.body).code, 'NO_ACTIVE_ROLLOUT');
    const rebinding = await request(port, 'GET', '/', { host: 'attacker.example' });
    assert.equal(rebinding.status, 403);
  });

  test('issue 22: logout ends the session on the server: a copy of it is refused, its open event stream is cut', async () => {
    const login = await request(port, 'POST', '/login', { origin, 'content-type': 'application/json' }, JSON.stringify({ token: TOKEN }));
    const copy = { 'x-cutover-session': (JSON.parse(login.body) as { session: string }).session };
    const streamEnded = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/events', headers: { ...copy, accept: 'text/event-stream' }, agent: false }, (res) => {
        res.once('data', () => void request(port, 'POST', '/logout', { ...copy, origin }).catch(reject));
        res.on('error', () => resolve('cut'));
        res.on('close', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    assert.equal(await streamEnded, 'cut');
    assert.equal((await request(port, 'GET', '/v1/apps', copy)).status, 401, 'the copied session after logout');
    const other = await logIn();
    assert.equal((await request(port, 'GET', '/v1/apps', other)).status, 200, 'another session lives on');
  });

  test('--ui on an address that is not loopback is refused without --ui-allow-remote', async () => {
    const result = await daemon.cli(['up', '--detach', '--ui', '0.0.0.0:7070']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /not a loopback address/);
    assert.match(result.stderr, /--ui-allow-remote/);
  });
});
