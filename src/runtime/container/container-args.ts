import type { ContainerEngine, ContainerRuntimeSpec, RunSpec } from '../../model/app-spec.js';

/** Labels every container of cutover carries: adoption and clean-up find them by these. */
export const LABEL_APP = 'cutover.app';
export const LABEL_REVISION = 'cutover.revision';
export const LABEL_INSTANCE = 'cutover.instance';
export const LABEL_DATA_DIR = 'cutover.data-dir';

/** What an instance's identity looks like for a container: `container:<engine>:<container id>`. */
const IDENTITY_PATTERN = /^container:(docker|podman):([0-9a-f]{12,64})$/;

export function containerIdentity(engine: ContainerEngine, containerId: string): string {
  return `container:${engine}:${containerId}`;
}

/** The engine and container ID an identity names; null for a process's identity. */
export function parseContainerIdentity(identity: string | null | undefined): { engine: ContainerEngine; containerId: string } | null {
  const match = identity ? IDENTITY_PATTERN.exec(identity) : null;
  return match ? { engine: match[1] as ContainerEngine, containerId: match[2]! } : null;
}

/** Container names are unique per engine; an instance ID is unique per data dir and random. */
export function containerName(instanceId: string): string {
  return `cutover-${instanceId}`;
}

export interface RunArgsInput {
  engine: ContainerEngine;
  container: ContainerRuntimeSpec;
  run: RunSpec;
  app: string;
  revision: number;
  instanceId: string;
  dataDir: string;
  /** The port the instance is reached on, on 127.0.0.1. */
  hostPort: number;
  /** Names of the variables the container gets; their values travel in the engine CLI's environment. */
  envNames: readonly string[];
}

/**
 * The argv of `<engine> run` for one instance: detached, named and labelled, on the host network
 * with `$PORT` or published on 127.0.0.1 only, variables by name, volumes, the config's extra
 * arguments, then `--` and the image ID (never the tag: a moved tag must not change a revision)
 * and the command that replaces the image's own.
 *
 * @example
 * containerRunArgs({ engine: 'docker', container, run, app: 'web', revision: 2, instanceId: 'web-2-a1b2c3', dataDir: '/srv/.cutover', hostPort: 41234, envNames: ['PORT'] });
 * // ['run', '--detach', '--name', 'cutover-web-2-a1b2c3', '--label', 'cutover.app=web', …, '--network', 'host', '--env', 'PORT', '--', 'sha256:…']
 */
export function containerRunArgs(input: RunArgsInput): string[] {
  const { container } = input;
  if (container.resolved === null) throw new Error(`the image ${container.image} of revision ${input.revision} was never resolved to an ID`);
  const args = ['run', '--detach', '--name', containerName(input.instanceId)];
  const labels = {
    [LABEL_APP]: input.app,
    [LABEL_REVISION]: String(input.revision),
    [LABEL_INSTANCE]: input.instanceId,
    [LABEL_DATA_DIR]: input.dataDir,
  };
  for (const [name, value] of Object.entries(labels)) args.push('--label', `${name}=${value}`);
  // Output goes to a file the engine keeps, and from there through `logs --follow` to the instance's log.
  if (input.engine === 'podman') args.push('--log-driver', 'k8s-file');
  // Bridge is named too: an engine's default network need not be its bridge (rootless podman's is slirp4netns).
  if (container.network === 'host') args.push('--network', 'host');
  else args.push('--network', 'bridge', '--publish', `127.0.0.1:${input.hostPort}:${container.port!}`);
  for (const name of input.envNames) args.push('--env', name);
  for (const volume of container.volumes) args.push('--volume', volume);
  args.push(...container.args, '--', container.resolved.imageId, ...commandOf(input.run));
  return args;
}

/** `run.command` replaces the image's command; with `shell: true` the image's /bin/sh runs it. */
function commandOf(run: RunSpec): string[] {
  if (run.command.length === 0) return [];
  return run.shell ? ['/bin/sh', '-c', run.command.join(' ')] : [...run.command];
}

/**
 * The variables a container gets: the revision's `run.env`, the names of the daemon's environment
 * listed in `run.inheritEnv` (nothing else of the host's: its PATH and HOME mean nothing inside),
 * and `PORT` (the published inside port with bridge networking) and `CUTOVER_*`.
 */
export function containerEnv(input: {
  run: RunSpec;
  container: ContainerRuntimeSpec;
  daemonEnv: NodeJS.ProcessEnv;
  hostPort: number;
  app: string;
  revision: number;
  instanceId: string;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of input.run.inheritEnv ?? []) {
    const value = input.daemonEnv[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, input.run.env);
  env['PORT'] = String(input.container.network === 'host' ? input.hostPort : input.container.port);
  env['CUTOVER_APP'] = input.app;
  env['CUTOVER_REVISION'] = String(input.revision);
  env['CUTOVER_INSTANCE'] = input.instanceId;
  return env;
}

/** Image IDs as Docker writes them: podman answers without the `sha256:` prefix. */
export function normalizeImageId(id: string): string {
  const trimmed = id.trim();
  return /^[0-9a-f]{64}$/.test(trimmed) ? `sha256:${trimmed}` : trimmed;
}
