/**
 * The admin API on TCP (`cutover up --admin HOST:PORT`): every route answers 401 without the
 * bearer token, a foreign Host is refused (DNS rebinding), a foreign Origin cannot change state
 * (CSRF), and the token set for the run shows up in no log line, error or process argument.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_PREFIX, API_ROUTES } from '../src/api/routes.js';
import { CutoverClient } from '../src/api/client.js';
import { findFreePort } from '../src/runtime/local/free-port.js';
import { DaemonFixture, sampleAppConfig, type CliResult } from './helpers/daemon-fixture.js';

/** Recognisable, so that a leak anywhere is found by a plain search. */
const TOKEN = 'canary-admin-token-5f3c9a1e7d2b4c6a8e0f';

interface Answer {
  status: number;
  body: string;
}

function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

function allProcessArguments(): string {
  let text = '';
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      text += `${fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ')}\n`;
    } catch {
      // Gone meanwhile.
    }
  }
  return text;
}

describe('admin API over TCP', () => {
  let daemon: DaemonFixture;
  let adminPort: number;
  const outputs: CliResult[] = [];
  const answers: Answer[] = [];

  before(async () => {
    adminPort = await findFreePort();
    daemon = await DaemonFixture.start((port) => sampleAppConfig(port, { replicas: 1 }), {
      upArgs: ['--admin', `127.0.0.1:${adminPort}`],
      beforeUp: (fixture) => {
        fs.mkdirSync(fixture.dataDir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(fixture.dataDir, 'admin-token'), `${TOKEN}\n`, { mode: 0o600 });
      },
    });
  });

  after(async () => daemon?.stop());

  test('every route, and an unknown one, answers 401 without the token or with a wrong one', async () => {
    const paths = [
      ...API_ROUTES.map((r) => [r.method, `${API_PREFIX}${r.example}`] as const),
      ['GET', '/nope'] as const,
      ['GET', `${API_PREFIX}/nope`] as const,
    ];
    for (const [method, urlPath] of paths) {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: 'Bearer wrong-token' },
        { authorization: `Basic ${TOKEN}` },
        { authorization: `Bearer ${TOKEN}x` },
      ]) {
        const answer = await request(adminPort, method, urlPath, headers);
        answers.push(answer);
        assert.equal(answer.status, 401, `${method} ${urlPath} with ${JSON.stringify(headers)}`);
        assert.equal(JSON.parse(answer.body).code, 'ADMIN_UNAUTHORIZED');
      }
    }
  });

  test('with the token, the typed client works over TCP', async () => {
    const client = new CutoverClient({ url: `http://127.0.0.1:${adminPort}`, token: TOKEN });
    assert.equal((await client.health()).ok, true);
    assert.equal((await client.status()).apps[0]?.name, 'web');
  });

  test("a Host that is not the listener's own is refused even with the token (DNS rebinding)", async () => {
    const answer = await request(adminPort, 'GET', `${API_PREFIX}/status`, { authorization: `Bearer ${TOKEN}`, host: 'attacker.example:80' });
    answers.push(answer);
    assert.equal(answer.status, 403);
    assert.equal(JSON.parse(answer.body).code, 'ADMIN_HOST_NOT_ALLOWED');
  });

  test("a state-changing request from a foreign Origin is refused; from the listener's own it passes", async () => {
    const foreign = await request(adminPort, 'POST', `${API_PREFIX}/apps/nope/rollback`, {
      authorization: `Bearer ${TOKEN}`,
      origin: 'http://attacker.example',
      'content-type': 'application/json',
    });
    answers.push(foreign);
    assert.equal(foreign.status, 403);
    assert.equal(JSON.parse(foreign.body).code, 'ADMIN_ORIGIN_NOT_ALLOWED');
    const own = await request(adminPort, 'POST', `${API_PREFIX}/apps/nope/rollback`, {
      authorization: `Bearer ${TOKEN}`,
      origin: `http://127.0.0.1:${adminPort}`,
      'content-type': 'application/json',
    });
    answers.push(own);
    assert.equal(own.status, 404, own.body);
  });

  test('the token appears in no log line, CLI output, error body or process argument', async () => {
    outputs.push(
      await daemon.cli(['status']),
      await daemon.cli(['status', '--json']),
      await daemon.cli(['up', '--detach', '--admin', `127.0.0.1:${adminPort}`]),
    );
    const texts = [
      fs.readFileSync(path.join(daemon.dataDir, 'daemon.log'), 'utf8'),
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      ...answers.map((a) => a.body),
      allProcessArguments(),
    ];
    for (const logFile of fs.readdirSync(path.join(daemon.dataDir, 'logs'), { recursive: true }) as string[]) {
      const file = path.join(daemon.dataDir, 'logs', logFile);
      if (fs.statSync(file).isFile()) texts.push(fs.readFileSync(file, 'utf8'));
    }
    for (const text of texts) assert.ok(!text.includes(TOKEN), `the token leaked into: ${text.slice(0, 200)}`);
    assert.equal(fs.statSync(path.join(daemon.dataDir, 'admin-token')).mode & 0o777, 0o600);
  });
});
