import { formatRehearsalDeploy } from './format-rehearsal.js';
import type { RehearsalDeploy, RehearsalResult } from './rehearsal-result.js';

/** The name of the test case that carries what went wrong outside the deploys, when anything did. */
export const REHEARSAL_CASE_NAME = 'the rehearsal ran to its end with no failed request outside the deploys';

/**
 * The rehearsal as JUnit XML, the test report format Azure DevOps (PublishTestResults), GitHub
 * (test reporter actions) and GitLab (`artifacts:reports:junit`) read: one test suite per app,
 * one test case per deploy; a deploy that did not pass is a failure carrying its report. What
 * went wrong outside the deploys is one more failed case, in a suite of its own.
 *
 * @example fs.writeFileSync('rehearsal.xml', junitReport(result));
 */
export function junitReport(result: RehearsalResult): string {
  const timestamp = result.startedAt.slice(0, 19);
  const suites = result.apps.map((app) =>
    suite(
      `cutover rehearse: ${app.name}`,
      timestamp,
      result.deploys.filter((d) => d.app === app.name).map((d) => deployCase(d)),
    ),
  );
  if (result.problems.length > 0) {
    const text = result.problems.map((problem) => `- ${problem}`).join('\n');
    suites.push(
      suite('cutover rehearse', timestamp, [
        testCase({ classname: 'cutover.rehearse', name: REHEARSAL_CASE_NAME, seconds: 0, failure: { message: result.problems[0]!, text }, output: null }),
      ]),
    );
  }
  const tests = count(suites, 'tests');
  const failures = count(suites, 'failures');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="cutover rehearse" tests="${tests}" failures="${failures}" errors="0" time="${seconds(result.durationMs)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

interface Suite {
  xml: string;
  tests: number;
  failures: number;
}

interface Case {
  xml: string;
  isFailed: boolean;
  seconds: number;
}

function deployCase(deploy: RehearsalDeploy): Case {
  const text = formatRehearsalDeploy(deploy);
  return testCase({
    classname: `cutover.rehearse.${deploy.app}`,
    name: deploy.name,
    seconds: deploy.durationMs / 1000,
    failure: deploy.isPassed ? null : { message: deploy.problems[0] ?? 'did not pass', text },
    output: deploy.isPassed ? text : null,
  });
}

function testCase(test: { classname: string; name: string; seconds: number; failure: { message: string; text: string } | null; output: string | null }): Case {
  const lines = [`    <testcase classname="${xmlText(test.classname)}" name="${xmlText(test.name)}" time="${test.seconds.toFixed(3)}">`];
  if (test.failure)
    lines.push(`      <failure message="${xmlText(oneLine(test.failure.message))}" type="RehearsalFailure">${xmlText(test.failure.text)}</failure>`);
  if (test.output !== null) lines.push(`      <system-out>${xmlText(test.output)}</system-out>`);
  lines.push('    </testcase>');
  return { xml: lines.join('\n'), isFailed: test.failure !== null, seconds: test.seconds };
}

function suite(name: string, timestamp: string, cases: Case[]): Suite {
  const failures = cases.filter((c) => c.isFailed).length;
  const time = cases.reduce((sum, c) => sum + c.seconds, 0);
  const head = `  <testsuite name="${xmlText(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${time.toFixed(3)}" timestamp="${timestamp}">`;
  return { xml: [head, ...cases.map((c) => c.xml), '  </testsuite>'].join('\n'), tests: cases.length, failures };
}

function count(suites: Suite[], key: 'tests' | 'failures'): number {
  return suites.reduce((sum, s) => sum + s[key], 0);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Terminal colours, then what XML 1.0 cannot hold (control characters, lone surrogates), go; the rest is escaped. */
export function xmlText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- terminal colour codes are what this strips
      .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
      // eslint-disable-next-line no-control-regex -- control characters are what this strips
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}
