import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../errors.js';
import { DEFAULT_LISTEN_HOST } from './defaults.js';
import { formatListen, parseListen } from './parse-listen.js';

function rejection(input: string | number): InputError {
  try {
    parseListen(input);
  } catch (error) {
    assert.ok(error instanceof InputError);
    assert.equal(error.code, 'LISTEN_INVALID');
    assert.ok(error.hint, 'every listen error has a hint');
    return error;
  }
  assert.fail(`parseListen(${JSON.stringify(input)}) did not throw`);
}

describe('parseListen', () => {
  it('reads host:port with an IPv4 address or a host name', () => {
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
    assert.deepEqual(parseListen('localhost:3000'), { host: 'localhost', port: 3000 });
  });

  it('reads a bracketed IPv6 address and returns the host without brackets', () => {
    assert.deepEqual(parseListen('[::1]:8080'), { host: '::1', port: 8080 });
    assert.deepEqual(parseListen('[::]:443'), { host: '::', port: 443 });
  });

  it('listens on the default host when given only a port, as a number or as text', () => {
    assert.deepEqual(parseListen(8080), { host: DEFAULT_LISTEN_HOST, port: 8080 });
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  });

  it('rejects ports outside 1..65535', () => {
    assert.match(rejection(0).message, /out of range 1\.\.65535/);
    assert.match(rejection('127.0.0.1:65536').message, /out of range/);
    assert.match(rejection(80.5).message, /out of range/);
  });

  it('rejects a missing or non-numeric port', () => {
    assert.match(rejection('localhost').message, /no port/);
    assert.match(rejection('localhost:http').message, /port number/);
    assert.match(rejection('[::1]').message, /\[ipv6\]:port/);
  });

  it('rejects bad hosts: an impossible IPv4 address, invalid names, a missing host', () => {
    assert.match(rejection('300.1.2.3:8080').message, /not a valid IPv4 address/);
    assert.match(rejection('my_host:8080').message, /not a valid host name/);
    assert.match(rejection(':8080').message, /host is missing/);
    assert.match(rejection('[127.0.0.1]:8080').message, /not an IPv6 address/);
  });

  it('asks for brackets around an IPv6 address written without them', () => {
    const error = rejection('::1:8080');
    assert.match(error.message, /need brackets/);
    assert.equal(error.hint, 'write [::1]:8080');
  });
});

describe('formatListen', () => {
  it('writes IPv6 hosts in brackets and others as host:port', () => {
    assert.equal(formatListen({ host: '::1', port: 8080 }), '[::1]:8080');
    assert.equal(formatListen({ host: '127.0.0.1', port: 80 }), '127.0.0.1:80');
  });
});
