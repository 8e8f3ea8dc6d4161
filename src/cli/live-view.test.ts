import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AppStatus, RolloutStatus } from '../protocol/status.js';
import { ROLLOUT_PHASES } from '../model/rollout.js';
import { plainLine, renderLiveView, type LiveViewState } from './live-view.js';

const CANARY_STEPS = ['setWeight 10', 'pause (until promoted)', 'setWeight 50', 'pause (until promoted)'];

function rollout(overrides: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    id: 3,
    phase: 'paused',
    strategy: 'canary',
    step: 'step 2/4: pause (until promoted)',
    fromRevision: 1,
    toRevision: 2,
    reason: null,
    steps: CANARY_STEPS,
    stepIndex: 1,
    gate: 'pause (until promoted)',
    isPausedByUser: false,
    warm: null,
    analysis: [],
    ...overrides,
  };
}

function app(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    name: 'web',
    revision: 1,
    rollout: rollout(),
    instances: [],
    traffic: [
      { revision: 2, weight: 10, instances: 1 },
      { revision: 1, weight: 90, instances: 2 },
    ],
    ...overrides,
  };
}

const plain = { width: 70, isColored: false };
const rates = [
  { revision: 2, requestsPerSecond: 12.345, errorsPerSecond: 0, errorRate: 0, p99Ms: 4.2 },
  { revision: 1, requestsPerSecond: 110.4, errorsPerSecond: 1.5, errorRate: 0.0136, p99Ms: null },
];

describe('renderLiveView', () => {
  test('a canary at a gate: header, step bar, traffic bar, one line per revision, the gate', () => {
    assert.deepEqual(renderLiveView([{ app: app(), rates }], plain), [
      'web  rollout 3 (canary) paused  revision 1 → 2',
      `  steps   [${'█'.repeat(10)}${'░'.repeat(30)}] step 2/4: pause (until promoted)`,
      `  traffic [${'█'.repeat(40)}] r2 10% | r1 90%`,
      '    revision 2     10%    12.3 rps  0.00 err/s  p99 4.20ms',
      '    revision 1     90%     110 rps  1.50 err/s  p99 -',
      '  gate    pause (until promoted)',
    ]);
  });

  test('the step bar fills with the steps done, and is full once promoted', () => {
    const bar = (r: RolloutStatus): string => renderLiveView([{ app: app({ rollout: r }), rates: [] }], plain)[1]!;
    assert.match(bar(rollout({ stepIndex: 0, phase: 'progressing', gate: null })), /\[░{40}\] step 1\/4: setWeight 10$/);
    assert.match(bar(rollout({ stepIndex: 2, phase: 'progressing', gate: null })), /\[█{20}░{20}\] step 3\/4: setWeight 50$/);
    assert.match(bar(rollout({ stepIndex: 4, phase: 'promoted', gate: null })), /\[█{40}\] 4\/4 steps$/);
    assert.match(bar(rollout({ stepIndex: 1, phase: 'aborted', gate: null })), /\[█{10}░{30}\] 1\/4 steps$/);
  });

  test('a rolling rollout has no steps: its step in words instead of a bar', () => {
    const lines = renderLiveView(
      [
        {
          app: app({ rollout: rollout({ strategy: 'rolling', steps: [], stepIndex: 0, gate: null, phase: 'progressing', step: 'replacing 1 of 3' }) }),
          rates: [],
        },
      ],
      plain,
    );
    assert.equal(lines[1], '  step    replacing 1 of 3');
  });

  test('the traffic bar is always exactly full, and empty without traffic', () => {
    for (const weights of [[33, 67], [1, 99], [50, 50], [100], [10, 20, 70]]) {
      const traffic = weights.map((weight, i) => ({ revision: i + 1, weight, instances: 1 }));
      const line = renderLiveView([{ app: app({ traffic }), rates: [] }], plain)[2]!;
      assert.equal(/\[(█*)\]/.exec(line)![1]!.length, 40, `${weights.join('/')}: ${line}`);
    }
    assert.match(renderLiveView([{ app: app({ traffic: [] }), rates: [] }], plain)[2]!, /\[ {40}\] no traffic$/);
  });

  test('bars shrink with the terminal, never under 10 cells, never over 40', () => {
    const width = (columns: number): number =>
      /\[(░*)\]/.exec(renderLiveView([{ app: app({ rollout: rollout({ stepIndex: 0 }) }), rates: [] }], { width: columns, isColored: false })[1]!)![1]!.length;
    assert.equal(width(20), 10);
    assert.equal(width(50), 20);
    assert.equal(width(200), 40);
  });

  test('paused by a person says how to resume; a finished rollout gives its reason', () => {
    const paused = renderLiveView([{ app: app({ rollout: rollout({ isPausedByUser: true, gate: null, phase: 'paused' }) }), rates: [] }], plain);
    assert.match(paused[0]!, /paused by a person/);
    assert.equal(paused.at(-1), '  paused  cutover resume web');
    const failed = renderLiveView(
      [{ app: app({ rollout: rollout({ phase: 'failed', gate: null, reason: 'analysis success-rate failed' }) }), rates: [] }],
      plain,
    );
    assert.equal(failed.at(-1), '  reason  analysis success-rate failed');
  });

  test('an app without a rollout, and several apps in one view', () => {
    const states: LiveViewState[] = [
      { app: app({ name: 'api', rollout: null, traffic: [{ revision: 1, weight: 100, instances: 1 }] }), rates: [] },
      { app: app(), rates },
    ];
    const lines = renderLiveView(states, plain);
    assert.equal(lines[0], 'api  stable revision 1, no rollout yet');
    assert.equal(lines[2], '    revision 1    100%    0.00 rps  0.00 err/s  p99 -');
    assert.equal(lines[3], 'web  rollout 3 (canary) paused  revision 1 → 2');
  });

  test('a revision with rates but no traffic (mirrored, or draining) is listed at 0%', () => {
    const lines = renderLiveView([{ app: app({ traffic: [{ revision: 1, weight: 100, instances: 1 }] }), rates }], plain);
    assert.equal(lines[3], '    revision 2      0%    12.3 rps  0.00 err/s  p99 4.20ms');
  });

  test('every phase renders, coloured with escape codes only when asked', () => {
    for (const phase of ROLLOUT_PHASES) {
      const state = [{ app: app({ rollout: rollout({ phase }) }), rates }];
      const uncolored = renderLiveView(state, plain);
      assert.ok(
        uncolored.every((l) => !l.includes('\u001b')),
        phase,
      );
      assert.match(uncolored[0]!, new RegExp(` ${phase} `));
      const colored = renderLiveView(state, { ...plain, isColored: true });
      assert.ok(colored[0]!.includes('\u001b['), phase);
      // The escape codes are what this strips.
      const escapes = new RegExp(String.raw`\u001b\[\d+m`, 'g');
      assert.deepEqual(
        colored.map((l) => l.replace(escapes, '')),
        uncolored,
      );
    }
  });
});

describe('plainLine', () => {
  test('says phase, revisions, step, traffic and gate in one line', () => {
    assert.equal(
      plainLine(app()),
      'web rollout 3 paused; revision 1 → 2; step 2/4 pause (until promoted); traffic r2 10% r1 90%; gate: pause (until promoted)',
    );
  });

  test('changes when the step, traffic, gate or instance states change, and only then', () => {
    const base = plainLine(app());
    assert.equal(plainLine(app({ rollout: rollout() })), base);
    const oneReady = plainLine(app({ instances: [{ id: 'x', revision: 2, pid: 1, port: 1, state: 'ready' }] }));
    assert.notEqual(oneReady, base);
    // Another pid or port for the same states says nothing new.
    assert.equal(plainLine(app({ instances: [{ id: 'y', revision: 2, pid: 2, port: 2, state: 'ready' }] })), oneReady);
    assert.notEqual(plainLine(app({ rollout: rollout({ stepIndex: 2, gate: null, phase: 'progressing' }) })), base);
    assert.notEqual(
      plainLine(
        app({
          traffic: [
            { revision: 2, weight: 50, instances: 1 },
            { revision: 1, weight: 50, instances: 1 },
          ],
        }),
      ),
      base,
    );
  });

  test('a finished rollout gives its step in words and its reason; no rollout gives the stable revision', () => {
    assert.equal(
      plainLine(
        app({
          rollout: rollout({ phase: 'aborted', gate: null, step: 'revision 1 serving', reason: 'aborted by a person' }),
          traffic: [{ revision: 1, weight: 100, instances: 2 }],
        }),
      ),
      'web rollout 3 aborted; revision 1 → 2; revision 1 serving; traffic r1 100%; reason: aborted by a person',
    );
    assert.equal(plainLine(app({ rollout: null, traffic: [] })), 'web stable revision 1; traffic none');
  });
});

describe('instances in the live view (issue 21)', () => {
  const instances: AppStatus['instances'] = [
    { id: 'web-1-aaa111', revision: 1, pid: 101, port: 4001, state: 'ready' },
    { id: 'web-2-bbb222', revision: 2, pid: 102, port: 4002, state: 'starting', lastCheck: 'HTTP 503' },
    { id: 'web-2-ccc333', revision: 2, pid: null, port: 4003, state: 'failed', reason: 'not ready within the startup timeout' },
  ];

  test('lists each instance, newest revision first, with a starting one’s last check and a failed one’s reason', () => {
    const lines = renderLiveView([{ app: app({ instances }), rates: [] }], { width: 80, isColored: false });
    const listed = lines.filter((l) => l.includes('web-'));
    assert.deepEqual(listed, [
      '  web-2-bbb222     r2    starting pid 102  last check: HTTP 503',
      '  web-2-ccc333     r2    failed     not ready within the startup timeout',
      '  web-1-aaa111     r1    ready    pid 101',
    ]);
    // The gate stays the last line.
    assert.match(lines.at(-1)!, /gate/);
  });

  test('a long list is cut, saying how many more and where to see them', () => {
    const many = Array.from({ length: 15 }, (_, n) => ({ id: `web-1-${n}`, revision: 1, pid: n, port: 4000 + n, state: 'ready' as const }));
    const lines = renderLiveView([{ app: app({ instances: many }), rates: [] }], { width: 80, isColored: false });
    assert.equal(lines.filter((l) => l.startsWith('  web-1-')).length, 12);
    assert.ok(lines.includes('  … and 3 more (cutover status web)'));
  });

  test('the plain line counts instances per revision and state', () => {
    assert.match(plainLine(app({ instances })), /; instances r2 1 starting, r2 1 failed, r1 1 ready/);
    assert.doesNotMatch(plainLine(app()), /instances/);
  });
});
