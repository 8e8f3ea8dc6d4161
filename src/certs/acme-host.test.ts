import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAcmeHost } from './acme-host.js';

describe('checkAcmeHost', () => {
  it('accepts DNS names and gives them in lower case', () => {
    assert.deepEqual(checkAcmeHost('Example.COM'), { isValid: true, host: 'example.com' });
    assert.deepEqual(checkAcmeHost('www.xn--bcher-kva.example'), { isValid: true, host: 'www.xn--bcher-kva.example' });
    assert.deepEqual(checkAcmeHost('a-1.b2.example.test'), { isValid: true, host: 'a-1.b2.example.test' });
  });

  it('refuses wildcards, naming HTTP-01 and the way out', () => {
    const check = checkAcmeHost('*.api.example.com');
    assert.equal(check.isValid, false);
    assert.match(!check.isValid ? check.reason : '', /wildcard.*HTTP-01.*DNS-01.*certificate file/);
  });

  it('refuses anything that could leave the certificates folder or is not a name a CA issues for', () => {
    for (const host of ['..', '../etc', 'a/b.example.com', 'example.com/..', 'a..b.com', '.example.com', 'example.com.', 'localhost', '']) {
      assert.equal(checkAcmeHost(host).isValid, false, host);
    }
    for (const host of ['-a.example.com', 'a-.example.com', 'a_b.example.com', 'ex ample.com', 'bücher.example', '10.0.0.1', 'a\n.example.com']) {
      assert.equal(checkAcmeHost(host).isValid, false, JSON.stringify(host));
    }
  });

  it('bounds label and name lengths', () => {
    assert.equal(checkAcmeHost(`${'a'.repeat(63)}.example.com`).isValid, true);
    assert.equal(checkAcmeHost(`${'a'.repeat(64)}.example.com`).isValid, false);
    const long = `${Array.from({ length: 60 }, () => 'abcd').join('.')}.com`;
    assert.ok(long.length > 253);
    assert.equal(checkAcmeHost(long).isValid, false);
  });
});
