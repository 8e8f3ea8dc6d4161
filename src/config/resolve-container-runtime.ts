import { isAbsolute, resolve } from 'node:path';
import type { ContainerRuntimeSpec } from '../model/app-spec.js';
import type { RawApp } from './app-schema.js';
import { DEFAULT_CONTAINER_ENGINE, DEFAULT_CONTAINER_NETWORK } from './defaults.js';

type RawContainer = NonNullable<NonNullable<RawApp['runtime']>['container']>;

/**
 * `runtime.container` with its defaults: relative host paths of volumes made absolute against
 * the config file's directory (the engine would read them against its own). The image is
 * resolved to its ID later, when the revision is made.
 *
 * @example
 * resolveContainerRuntime({ image: 'localhost/web:1', volumes: ['./data:/data'] }, '/srv/web').volumes; // ['/srv/web/data:/data']
 */
export function resolveContainerRuntime(raw: RawContainer, configDir: string): ContainerRuntimeSpec {
  return {
    kind: 'container',
    engine: raw.engine ?? DEFAULT_CONTAINER_ENGINE,
    image: raw.image,
    resolved: null,
    port: raw.port ?? null,
    network: raw.network ?? DEFAULT_CONTAINER_NETWORK,
    volumes: (raw.volumes ?? []).map((volume) => resolveVolume(volume, configDir)),
    args: [...(raw.args ?? [])],
  };
}

function resolveVolume(volume: string, configDir: string): string {
  const [source, ...rest] = volume.split(':');
  // A name (no slash, no dot at the start) is a named volume of the engine.
  if (!source!.startsWith('.') && !isAbsolute(source!)) return volume;
  return [resolve(configDir, source!), ...rest].join(':');
}
