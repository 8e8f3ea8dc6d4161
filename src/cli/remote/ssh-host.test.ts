import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CutoverError } from '../../errors.js';
import { describeSshHost, parseSshHost } from './ssh-host.js';

describe('parseSshHost', () => {
  test('reads user, host, port and directory', () => {
    assert.deepEqual(parseSshHost('ssh://deploy@app.example.com:2222/srv/shop'), { user: 'deploy', host: 'app.example.com', port: 2222, dir: '/srv/shop' });
    assert.deepEqual(parseSshHost('ssh://root@127.0.0.1'), { user: 'root', host: '127.0.0.1', port: null, dir: null });
    assert.deepEqual(parseSshHost('ssh://ci@[::1]:22/opt/app/'), { user: 'ci', host: '::1', port: 22, dir: '/opt/app' });
    assert.equal(describeSshHost(parseSshHost('ssh://ci@[::1]:22/opt/app/')), 'ssh://ci@[::1]:22/opt/app');
  });

  test('refuses options smuggled as user, host, port or directory, and anything a shell would read', () => {
    for (const text of [
      'ssh://-oProxyCommand=touch${IFS}/tmp/x@host',
      'ssh://deploy@-oProxyCommand=sh',
      'ssh://deploy@host:-p1',
      'ssh://deploy@host:22 -oProxyCommand=x',
      'ssh://deploy@host/srv/$(reboot)',
      'ssh://deploy@host/srv/a b',
      'ssh://deploy@host/srv/../etc',
      'ssh://deploy@host/srv/-rf',
      "ssh://deploy@host/srv/'x'",
      'ssh://deploy@host:0',
      'ssh://deploy@host:65536',
      'ssh://deploy:secret@host',
      'ssh://host',
      'deploy@host',
      'ssh://deploy@ho_st',
      'ssh://deploy@[not-v6]',
      'ssh://dep;loy@host',
    ]) {
      assert.throws(
        () => parseSshHost(text),
        (error: unknown) => error instanceof CutoverError && error.code === 'HOST_INVALID',
        text,
      );
    }
  });
});
