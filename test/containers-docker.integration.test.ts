import { describe, it } from 'node:test';
import { startTestDocker } from './helpers/container-engines.js';
import { describeContainerSuite } from './helpers/container-suite.js';

// Issue 18 against a dockerd of this test alone (host network).
describeContainerSuite('docker', startTestDocker);

describe('container apps on docker (bridge network)', () => {
  it('is covered by the argv unit tests only', (t) => {
    // The test dockerd runs with --bridge=none: a bridge would add an interface outside loopback.
    t.skip('bridge networking needs a bridge interface on the host; these tests stay on loopback (see container-args.test.ts)');
  });
});
