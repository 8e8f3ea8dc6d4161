import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerRuntimeSpec, RunSpec } from '../../model/app-spec.js';
import { containerEnv, containerRunArgs, normalizeImageId, parseContainerIdentity } from './container-args.js';

const ID = `sha256:${'a'.repeat(64)}`;
const container = (over: Partial<ContainerRuntimeSpec> = {}): ContainerRuntimeSpec => ({
  kind: 'container',
  engine: 'auto',
  image: 'localhost/web:v1',
  resolved: { engine: 'docker', imageId: ID },
  port: null,
  network: 'host',
  volumes: [],
  args: [],
  ...over,
});
const run: RunSpec = { command: [], shell: false, cwd: '/srv', env: { SECRET: 'hunter2' } };
const input = { engine: 'docker' as const, run, app: 'web', revision: 2, instanceId: 'web-2-abc123', dataDir: '/srv/.cutover', hostPort: 41000 };

describe('containerRunArgs', () => {
  it('runs the image ID (not the tag) on the host network, labelled, variables by name only', () => {
    const args = containerRunArgs({ ...input, container: container(), envNames: ['SECRET', 'PORT'] });
    assert.deepEqual(args.slice(0, 4), ['run', '--detach', '--name', 'cutover-web-2-abc123']);
    for (const label of ['cutover.app=web', 'cutover.revision=2', 'cutover.instance=web-2-abc123', 'cutover.data-dir=/srv/.cutover'])
      assert.ok(args.includes(label), label);
    assert.deepEqual(args.slice(args.indexOf('--network'), args.indexOf('--network') + 2), ['--network', 'host']);
    assert.ok(!args.some((arg) => arg.includes('hunter2')), 'a value never shows in the argv');
    assert.deepEqual(args.slice(-2), ['--', ID]);
    assert.ok(!args.includes('localhost/web:v1'));
  });

  it('publishes the inside port on 127.0.0.1 only with bridge networking', () => {
    const args = containerRunArgs({ ...input, container: container({ network: 'bridge', port: 3000 }), envNames: [] });
    assert.deepEqual(args.slice(args.indexOf('--network'), args.indexOf('--network') + 4), ['--network', 'bridge', '--publish', '127.0.0.1:41000:3000']);
  });

  it('puts volumes and extra args before `--` and the image, and run.command after it', () => {
    const args = containerRunArgs({
      ...input,
      run: { ...run, command: ['node', 'server.js', '--image-looking-flag'] },
      container: container({ volumes: ['/srv/data:/data:ro'], args: ['--memory=256m'] }),
      envNames: [],
    });
    const end = args.indexOf('--');
    assert.ok(args.indexOf('--volume') < end && args.indexOf('--memory=256m') < end);
    assert.deepEqual(args.slice(end), ['--', ID, 'node', 'server.js', '--image-looking-flag']);
  });

  it('refuses a revision whose image was never resolved', () => {
    assert.throws(() => containerRunArgs({ ...input, container: container({ resolved: null }), envNames: [] }), /never resolved/);
  });
});

describe('containerEnv', () => {
  it('gives $PORT the host port on the host network and the inside port on a bridge, and none of the host environment', () => {
    const base = { run, daemonEnv: { PATH: '/usr/bin', HOME: '/root' }, hostPort: 41000, app: 'web', revision: 2, instanceId: 'web-2-abc123' };
    assert.deepEqual(containerEnv({ ...base, container: container() }), {
      SECRET: 'hunter2',
      PORT: '41000',
      CUTOVER_APP: 'web',
      CUTOVER_REVISION: '2',
      CUTOVER_INSTANCE: 'web-2-abc123',
    });
    assert.equal(containerEnv({ ...base, container: container({ network: 'bridge', port: 3000 }) })['PORT'], '3000');
  });
});

describe('identities and image IDs', () => {
  it('tells a container identity from a process identity', () => {
    assert.deepEqual(parseContainerIdentity(`container:podman:${'b'.repeat(64)}`), { engine: 'podman', containerId: 'b'.repeat(64) });
    assert.equal(parseContainerIdentity('12345:678'), null);
    assert.equal(parseContainerIdentity(null), null);
  });

  it('writes podman image IDs as docker does', () => {
    assert.equal(normalizeImageId(`${'c'.repeat(64)}\n`), `sha256:${'c'.repeat(64)}`);
    assert.equal(normalizeImageId(ID), ID);
  });
});
