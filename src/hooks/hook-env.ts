import type { AppSpec, HookPoint, HostPort } from '../model/app-spec.js';
import { filterEnv } from '../runtime/local/local-runtime.js';
import type { RolloutRecord } from '../model/records.js';

/** Where the new revision answers, as far as the controller knows it now. */
export interface PreviewAddresses {
  /** The strategy's own preview listener (blue-green `preview.listen`), or null. */
  previewListen: HostPort | null;
  /** A ready instance of the new revision, or null. */
  readyInstance: HostPort | null;
}

/**
 * A hook's environment: the daemon's, the new revision's `run.env`, the rollout in CUTOVER_*
 * variables, and PREVIEW_URL where the new revision answers: the preview listener before the
 * switch when there is one, otherwise a ready instance's own address.
 */
export function hookEnv(rollout: RolloutRecord, point: HookPoint, spec: AppSpec, preview: PreviewAddresses): Record<string, string> {
  const env: Record<string, string> = {
    ...filterEnv(process.env),
    ...spec.run.env,
    CUTOVER_APP: rollout.app,
    CUTOVER_REVISION: String(rollout.toRevision),
    CUTOVER_FROM_REVISION: rollout.fromRevision === null ? '' : String(rollout.fromRevision),
    CUTOVER_STRATEGY: rollout.strategy,
    CUTOVER_PHASE: point,
    CUTOVER_ROLLOUT_ID: String(rollout.id),
    CUTOVER_ROLLOUT_PHASE: rollout.phase,
    CUTOVER_REASON: rollout.reason ?? '',
  };
  if (point === 'preDeploy') return env;
  if (point === 'preTraffic' && rollout.fromRevision !== null && preview.previewListen) {
    env['PREVIEW_URL'] = urlOf(preview.previewListen);
    return env;
  }
  if (preview.readyInstance) env['PREVIEW_URL'] = urlOf(preview.readyInstance);
  return env;
}

/** An address as a URL a local client can use: wildcards become loopback. */
function urlOf(address: HostPort): string {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
