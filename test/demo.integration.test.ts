import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { runCli } from './helpers/daemon-fixture.js';

describe('cutover demo', () => {
  it('tours every strategy under load with 0 failed requests, ships a code change as a release and rolls it back, and leaves nothing behind', async () => {
    const { code, stdout, stderr } = await runCli(['demo']);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /Demo passed: 0 failed requests across rolling, blue-green and canary deploys/);

    // The load really ran, through the whole tour, and nothing failed.
    const [, requests, failed] = /REQUESTS\s+FAILED\s+P50 MS\s+P99 MS\n(\d+)\s+(\d+)/.exec(stdout) ?? [];
    assert.ok(Number(requests) > 1000, `the load ran: ${requests} requests`);
    assert.equal(failed, '0');
    assert.doesNotMatch(stdout, /stopped at its time limit/);

    // The release step: revision 8 answers with the edited code, and after the rollback v5's code answers again.
    const shipped = stdout.indexOf('GET / answers: "hello from the edited release, v8"');
    const restored = stdout.indexOf('GET / answers: "hello from v5"');
    assert.ok(shipped > 0, 'the edited release answered');
    assert.ok(restored > shipped, 'the rollback brought the old answer back after the release');
    assert.match(stdout, /web: deploying revision 8/);
    assert.match(stdout, /web: rolling back to revision 5/);
    assert.match(stdout, /release [0-9a-f]{12} from \S*release-source/, 'revision 8 was taken as a release');
    assert.match(stdout, /^8\s+\d+$/m, 'revision 8 served part of the load');

    const scratch = /scratch dir (\S+)/.exec(stdout)?.[1];
    assert.ok(scratch, 'the demo names its scratch dir');
    assert.equal(fs.existsSync(scratch), false, 'the scratch dir is removed');
  });
});
