import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseXml, xmlElements, xmlText } from '../../../test/helpers/xml.js';
import { junitReport, REHEARSAL_CASE_NAME } from './junit-report.js';
import type { RehearsalDeploy, RehearsalResult } from './rehearsal-result.js';

const NO_LOAD = { requests: 0, failed: 0, p50Ms: null, p99Ms: null, failures: [] };

function deploy(overrides: Partial<RehearsalDeploy>): RehearsalDeploy {
  return {
    app: 'web',
    name: 'deploy 1 of 1 is promoted',
    number: 1,
    isBroken: false,
    strategy: 'rolling',
    rolloutId: 2,
    revision: 2,
    expected: 'promoted',
    outcome: 'promoted',
    reason: null,
    durationMs: 1_500,
    gatesPromoted: 0,
    load: { ...NO_LOAD, requests: 100 },
    report: null,
    isPassed: true,
    problems: [],
    ...overrides,
  };
}

function result(deploys: RehearsalDeploy[], problems: string[] = []): RehearsalResult {
  return {
    isPassed: problems.length === 0 && deploys.every((d) => d.isPassed),
    config: '/srv/cutover.yaml',
    startedAt: '2030-01-02T03:04:05.678Z',
    durationMs: 9_000,
    deploysPerApp: 1,
    clientsPerApp: 4,
    strategy: null,
    apps: [{ name: 'web', origin: 'http://127.0.0.1:4000', requests: [], load: NO_LOAD, byRevision: {}, failedOutsideDeploys: 0 }],
    deploys,
    problems,
  };
}

describe('junitReport', () => {
  it('writes one test case per deploy in a suite per app, with the counts CI servers read', () => {
    const broken = deploy({
      name: 'a broken revision (its health check never passes) is rolled back',
      number: 2,
      isBroken: true,
      expected: 'rolled-back',
      outcome: 'rolled-back',
    });
    const root = parseXml(junitReport(result([deploy({}), broken])));
    assert.equal(root.name, 'testsuites');
    assert.deepEqual([root.attributes.tests, root.attributes.failures], ['2', '0']);
    const [suite] = xmlElements(root, 'testsuite');
    assert.deepEqual(
      [suite?.attributes.name, suite?.attributes.tests, suite?.attributes.failures, suite?.attributes.timestamp],
      ['cutover rehearse: web', '2', '0', '2030-01-02T03:04:05'],
    );
    const cases = xmlElements(root, 'testcase');
    assert.deepEqual(
      cases.map((c) => [c.attributes.classname, c.attributes.name, c.attributes.time]),
      [
        ['cutover.rehearse.web', 'deploy 1 of 1 is promoted', '1.500'],
        ['cutover.rehearse.web', 'a broken revision (its health check never passes) is rolled back', '1.500'],
      ],
    );
    assert.equal(xmlElements(root, 'failure').length, 0);
  });

  it('makes a deploy that did not pass a failure carrying its problems and failed requests, escaped and without control characters', () => {
    const failed = deploy({
      isPassed: false,
      outcome: 'rolled-back',
      reason: 'health <check> & "more"',
      problems: ['it ended rolled-back (health <check> & "more"), expected promoted', '2 requests failed while it ran: POST /a?b=1&c=2: answered 502 (2×)'],
      load: { ...NO_LOAD, requests: 50, failed: 2, failures: [{ method: 'POST', path: '/a?b=1&c=2', status: 502, error: null, count: 2 }] },
    });
    const noisy = deploy({
      name: 'deploy 2 of 2 is promoted',
      number: 2,
      isPassed: false,
      problems: ['bell \u0007, escape \u001b[31mred\u001b[0m, nul \u0000, lone \ud800 surrogate'],
    });
    const text = junitReport(result([failed, noisy]));
    const root = parseXml(text);
    assert.deepEqual([root.attributes.tests, root.attributes.failures], ['2', '2']);
    const [first, second] = xmlElements(root, 'failure');
    assert.equal(first?.attributes.message, 'it ended rolled-back (health <check> & "more"), expected promoted');
    assert.match(xmlText(first!), /POST \/a\?b=1&c=2: answered 502 \(2×\)/);
    assert.equal(second?.attributes.message, 'bell , escape red, nul , lone  surrogate');
    assert.ok(!text.includes('\u001b') && !text.includes('\u0007'), 'no control characters reach the file');
  });

  it('adds a failed case for what went wrong outside the deploys', () => {
    const root = parseXml(junitReport(result([deploy({})], ['web: 3 requests failed outside its deploys'])));
    const cases = xmlElements(root, 'testcase');
    assert.deepEqual(
      cases.map((c) => c.attributes.name),
      ['deploy 1 of 1 is promoted', REHEARSAL_CASE_NAME],
    );
    assert.equal(root.attributes.failures, '1');
    assert.match(xmlText(xmlElements(root, 'failure')[0]!), /3 requests failed outside its deploys/);
  });
});
