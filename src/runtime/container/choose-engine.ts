import http from 'node:http';
import type { ContainerEngine, ContainerEngineChoice } from '../../model/app-spec.js';

const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const PING_TIMEOUT_MS = 2_000;

/** The unix socket the docker CLI talks to: `DOCKER_HOST` when it names one, else the default. Null for a TCP or SSH DOCKER_HOST. */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const host = env['DOCKER_HOST'];
  if (host === undefined || host === '') return DEFAULT_DOCKER_SOCKET;
  return host.startsWith('unix://') ? host.slice('unix://'.length) : null;
}

/** True when a Docker daemon answers `GET /_ping` on its socket (a TCP DOCKER_HOST is trusted to answer). */
export function dockerAnswers(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const socketPath = dockerSocketPath(env);
  if (socketPath === null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/_ping', timeout: PING_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** `auto`: docker when its socket answers, else podman. */
export async function chooseEngine(choice: ContainerEngineChoice, env: NodeJS.ProcessEnv = process.env): Promise<ContainerEngine> {
  if (choice !== 'auto') return choice;
  return (await dockerAnswers(env)) ? 'docker' : 'podman';
}
