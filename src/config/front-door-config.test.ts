import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';
import { parseListen } from './parse-listen.js';
import { InputError } from '../errors.js';

const CONFIG_PATH = '/srv/shop/cutover.yaml';
const RUN = '    run: { command: [node, server.js] }\n';

function problemsOf(text: string): string {
  try {
    parseConfig(text, CONFIG_PATH);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('parseConfig did not throw');
}

const ISSUE_EXAMPLE = `proxy:
  listen:
    http: 0.0.0.0:80
    https: 0.0.0.0:443
  tls:
    acme:
      email: ops@example.com
    redirectHttp: true
apps:
  web:
    hosts: [example.com, www.example.com]
    paths: [/]
    tls: acme
${RUN}  api:
    hosts: ["*.api.example.com"]
    tls: { cert: ./certs/api.pem, key: ./certs/api.key }
${RUN}  admin:
    listen: 127.0.0.1:9000
${RUN}`;

describe('front door config (issue 19)', () => {
  it("reads the issue's example: shared listeners, ACME, hosts, paths and certificate files", () => {
    const config = parseConfig(ISSUE_EXAMPLE, CONFIG_PATH);
    assert.deepEqual(config.proxy.listen, { http: { host: '0.0.0.0', port: 80 }, https: { host: '0.0.0.0', port: 443 } });
    assert.deepEqual(config.proxy.tls, {
      acme: { email: 'ops@example.com', directory: 'https://acme-v02.api.letsencrypt.org/directory', caFile: null },
      redirectHttp: true,
      hsts: null,
    });
    const [web, api, admin] = config.apps;
    assert.deepEqual(web!.frontDoor, { hosts: ['example.com', 'www.example.com'], paths: ['/'], tls: 'acme' });
    assert.deepEqual(web!.listen, { host: '', port: 0 });
    assert.deepEqual(api!.frontDoor, { hosts: ['*.api.example.com'], paths: ['/'], tls: { cert: '/srv/shop/certs/api.pem', key: '/srv/shop/certs/api.key' } });
    assert.equal(admin!.frontDoor, undefined);
    assert.deepEqual(admin!.listen, { host: '127.0.0.1', port: 9000 });
  });

  it('defaults tls to acme only when proxy.tls.acme is set, and writes HSTS only when asked', () => {
    const plain = parseConfig(`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}`, CONFIG_PATH);
    assert.equal(plain.apps[0]!.frontDoor!.tls, false);
    assert.equal(plain.proxy.tls.hsts, null);
    const hsts = parseConfig(
      `proxy: { listen: { https: 8443 }, tls: { hsts: { maxAge: 24h, includeSubDomains: true } } }\napps:\n  web:\n    hosts: [example.com]\n    tls: { cert: a.pem, key: a.key }\n${RUN}`,
      CONFIG_PATH,
    );
    assert.equal(hsts.proxy.tls.hsts, 'max-age=86400; includeSubDomains');
    const yes = parseConfig(`proxy: { listen: { http: 8080 }, tls: { hsts: true } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}`, CONFIG_PATH);
    assert.equal(yes.proxy.tls.hsts, 'max-age=31536000');
  });

  it('names the clash when two apps claim the same host and path, and allows distinct paths', () => {
    const message = problemsOf(
      `proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}  shop:\n    hosts: [www.example.com, example.com]\n${RUN}`,
    );
    assert.match(message, /apps "web" and "shop" both claim example\.com \(every path\)/);
    const paths = problemsOf(
      `proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n    paths: [/api/]\n${RUN}  api:\n    hosts: [example.com]\n    paths: [/api]\n${RUN}`,
    );
    assert.match(paths, /apps "web" and "api" both claim example\.com path \/api/);
    const fine = parseConfig(
      `proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}  api:\n    hosts: [example.com]\n    paths: [/api]\n${RUN}`,
      CONFIG_PATH,
    );
    assert.equal(fine.apps.length, 2);
  });

  it('refuses what cannot work, each with a hint', () => {
    const cases: [string, RegExp][] = [
      [`apps:\n  web:\n    hosts: [example.com]\n${RUN}`, /has hosts, but there is no shared listener/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n    tls: acme\n${RUN}`, /tls: acme, but proxy\.tls\.acme is not set/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n    tls: { cert: a, key: b }\n${RUN}`, /proxy\.listen\.https is not set/],
      [
        `proxy: { listen: { https: 8443 }, tls: { acme: { email: a@b.c } } }\napps:\n  web:\n    hosts: ["*.example.com"]\n${RUN}`,
        /wildcard host "\*\.example\.com", which ACME/,
      ],
      [`apps:\n  web:\n    listen: 8080\n    paths: [/api]\n${RUN}`, /paths needs hosts/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: ["https://example.com"]\n${RUN}`, /without a scheme/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [Example.com]\n${RUN}`, /lower case/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com]\n    paths: [api]\n${RUN}`, /must start with \//],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n    tls: maybe\n${RUN}`, /tls/],
      [`proxy: { listen: { http: 8080, https: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n${RUN}`, /both 127\.0\.0\.1:8080/],
      [`proxy: { listen: { http: 0.0.0.0:80 } }\napps:\n  web:\n    listen: 127.0.0.1:80\n${RUN}`, /the shared http listener's port/],
      [
        `proxy: { listen: { http: 8080 }, tls: { acme: { email: nobody } } }\napps:\n  web:\n    hosts: [a.com]\n    tls: false\n${RUN}`,
        /not an email address/,
      ],
      [`proxy: { listen: { https: 8443 } }\napps:\n  web:\n    hosts: [a.com]\n    tls: false\n${RUN}`, /has tls: false, but proxy\.listen\.http is not set/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    listen: 8081\n    tls: false\n${RUN}`, /tls needs hosts/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: ["example.com:8080"]\n${RUN}`, /without a port or path/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [10.0.0.1]\n${RUN}`, /is an IP address/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [example.com.]\n${RUN}`, /without the trailing dot/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [bücher.example]\n${RUN}`, /ASCII form \(xn--…\)/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n    paths: [/a/../b]\n${RUN}`, /no empty, \. or \.\. segments/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n    paths: ["/a?b"]\n${RUN}`, /no query, fragment/],
      [`proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n    paths: [/café]\n${RUN}`, /percent-encode characters outside ASCII/],
      [
        `proxy: { listen: { http: 8080 } }\napps:\n  web:\n    hosts: [a.com]\n    router: { haproxy: { mode: managed } }\n${RUN}`,
        /hosts need the built-in proxy, but app "web" uses the haproxy router/,
      ],
      [
        `proxy: { listen: { https: 8443 }, tls: { acme: { email: a@b.c } } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}`,
        /ACME, which proves the host over HTTP \(HTTP-01\), but proxy\.listen\.http is not set/,
      ],
      [
        `proxy: { listen: { http: 80, https: 443 }, tls: { acme: { email: a@b.c } } }\napps:\n  web:\n    hosts: [intranet]\n${RUN}`,
        /host "intranet", which is a single label/,
      ],
      [
        `proxy: { listen: { http: 80, https: 443 }, tls: { acme: { email: a@b.c } } }\napps:\n  web:\n    hosts: [a.123]\n${RUN}`,
        /host "a\.123", which ends in a number/,
      ],
      [
        `proxy: { listen: { http: 80, https: 443 } }\napps:\n  web:\n    hosts: [a.com]\n    tls: { cert: a.pem, key: a.key }\n${RUN}  api:\n    hosts: [a.com]\n    paths: [/api]\n    tls: { cert: b.pem, key: b.key }\n${RUN}`,
        /apps "web" and "api" both serve a\.com but with different tls settings \(cert a\.pem, key a\.key and cert b\.pem, key b\.key\)/,
      ],
    ];
    for (const [text, expected] of cases) assert.match(problemsOf(text), expected, text);
    // One host, one certificate: the same tls value on several apps is fine.
    const shared = parseConfig(
      `proxy: { listen: { http: 80, https: 443 } }\napps:\n  web:\n    hosts: [a.com]\n    tls: { cert: a.pem, key: a.key }\n${RUN}  api:\n    hosts: [a.com]\n    paths: [/api]\n    tls: { cert: a.pem, key: a.key }\n${RUN}`,
      CONFIG_PATH,
    );
    assert.equal(shared.apps.length, 2);
  });

  it('refuses an ACME CA file that cannot be read or holds no certificate, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-ca-'));
    try {
      const config = (caFile: string): string =>
        `proxy: { listen: { http: 80, https: 443 }, tls: { acme: { email: a@b.c, directory: "https://127.0.0.1:14000/dir", caFile: ${JSON.stringify(caFile)} } } }\napps:\n  web:\n    hosts: [example.com]\n${RUN}`;
      assert.match(
        problemsOf(config('./missing-ca.pem')),
        /proxy\.tls\.acme\.caFile: cannot read \/srv\/shop\/missing-ca\.pem: ENOENT\n {2}hint: give the PEM file/,
      );
      writeFileSync(join(dir, 'not-pem.txt'), 'hello');
      assert.match(problemsOf(config(join(dir, 'not-pem.txt'))), /not-pem\.txt holds no PEM certificate/);
      writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      assert.equal(parseConfig(config(join(dir, 'ca.pem')), CONFIG_PATH).proxy.tls.acme?.caFile, join(dir, 'ca.pem'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no longer calls listen: https://… an IPv6 address; it points to hosts and proxy.listen.https', () => {
    try {
      parseListen('https://example.com:443');
      assert.fail('parseListen accepted a URL');
    } catch (error) {
      assert.ok(error instanceof InputError);
      assert.doesNotMatch(error.message, /IPv6/);
      assert.match(error.message, /no scheme/);
      assert.match(error.hint ?? '', /hosts: .*proxy\.listen\.https/);
    }
  });
});
