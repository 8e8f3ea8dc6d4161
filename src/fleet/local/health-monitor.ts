import { HealthProbe } from '../../runtime/health-check.js';
import type { AppSpec } from '../../model/app-spec.js';
import { formatMs } from '../../util/format-ms.js';
import { alignedCheckAtMs, CheckSchedule } from './check-schedule.js';
import { isLive, type ManagedInstance } from './managed-instance.js';

/** While an instance starts it is checked this often, so readiness is seen within this long of the app being ready. */
export const STARTING_CHECK_MS = 50;
/** For this long after its start; then the gap grows by half each check, up to `health.interval`, for apps that take long to start. */
export const STARTING_FAST_CHECKS_MS = 10_000;

/** The wait before the next check of an instance that is not ready yet. */
export function startingCheckDelayMs(sinceStartMs: number, intervalMs: number): number {
  if (sinceStartMs <= STARTING_FAST_CHECKS_MS) return Math.min(intervalMs, STARTING_CHECK_MS);
  const grown = STARTING_CHECK_MS * 1.5 ** Math.ceil((sinceStartMs - STARTING_FAST_CHECKS_MS) / 1_000);
  return Math.min(intervalMs, grown);
}

/**
 * Where the app should listen, when its startup checks never got an answer. A bridged container
 * that listens on its own loopback is refused (podman) or reset (docker's proxy) on its
 * published port although it listens on $PORT: say so.
 */
export function notListeningHint(spec: AppSpec, detail: string): string {
  const runtime = spec.runtime;
  if (runtime?.kind === 'container' && runtime.network === 'bridge')
    return /ECONNREFUSED|ECONNRESET|socket hang up/.test(detail)
      ? `; does the app listen on 0.0.0.0:${runtime.port} inside its container (not on 127.0.0.1, which the published port cannot reach)?`
      : '';
  return detail.includes('ECONNREFUSED') ? '; does the app listen on $PORT?' : '';
}

export interface HealthMonitorOptions {
  now: () => number;
  /** Runs a check beside everything else (a storage failure holds rollouts instead of crashing). */
  guard: (action: () => Promise<void>) => void;
  /** No other instance of the app is ready: this one stays in traffic even when unhealthy. */
  isLastReady: (instance: ManagedInstance) => boolean;
  markReady: (instance: ManagedInstance) => void;
  fail: (instance: ManagedInstance, reason: string) => void;
  /** Said once when the last ready instance starts failing its checks. */
  warnLastReady: (instance: ManagedInstance, detail: string) => void;
}

/**
 * Checks each instance over HTTP, over a connection kept between checks: a starting one often
 * (see `startingCheckDelayMs`), a ready one at its spec's interval, on that interval's grid so
 * that one wake of the loop checks every ready instance due then. A starting one becomes ready after
 * `healthyThreshold` passes in a row, or fails at its startup timeout; a ready one fails after
 * `unhealthyThreshold` failures in a row, unless it is the last ready instance of its app.
 */
export class HealthMonitor {
  /** Each watched instance's checks, over a connection kept between them. */
  private readonly probes = new Map<ManagedInstance, HealthProbe>();
  private readonly schedule: CheckSchedule<ManagedInstance>;

  constructor(private readonly options: HealthMonitorOptions) {
    this.schedule = new CheckSchedule(options.now, (instance) => options.guard(() => this.check(instance)));
  }

  /** Checks the instance now, then at its interval until it stops or fails. */
  watch(instance: ManagedInstance): void {
    const { health } = instance.spec;
    this.probes.set(instance, new HealthProbe(instance.host, instance.record.port, health.path, health.timeoutMs));
    this.schedule.at(instance, this.options.now());
  }

  /** No more checks of the instance (it stops): its timer ends and its kept connection closes. */
  unwatch(instance: ManagedInstance): void {
    this.schedule.cancel(instance);
    this.probes.get(instance)?.close();
    this.probes.delete(instance);
  }

  /** TCP connections the checks of an instance opened so far (for tests: a kept connection serves many checks). */
  connectionsOpenedTo(instance: ManagedInstance): number {
    return this.probes.get(instance)?.connectionsOpened ?? 0;
  }

  private async check(instance: ManagedInstance): Promise<void> {
    const { health } = instance.spec;
    const healthProbe = this.probes.get(instance);
    if (instance.isStopping || !isLive(instance.record.state) || !healthProbe) return;
    const result = await healthProbe.check();
    if (instance.isStopping || !isLive(instance.record.state)) {
      // Stopped while the check was out: its connection went back to the pool after unwatch closed it.
      healthProbe.close();
      return;
    }
    instance.lastProbe = result.detail;
    if (result.isHealthy) {
      instance.consecutiveSuccesses += 1;
      instance.consecutiveFailures = 0;
    } else {
      instance.consecutiveFailures += 1;
      instance.consecutiveSuccesses = 0;
    }
    if (instance.record.state === 'starting') {
      if (instance.consecutiveSuccesses >= health.healthyThreshold) {
        this.options.markReady(instance);
      } else if (this.options.now() - instance.startedAtMs >= health.startupTimeoutMs) {
        const hint = notListeningHint(instance.spec, result.detail);
        this.options.fail(
          instance,
          `not ready within the startup timeout of ${formatMs(health.startupTimeoutMs)} (last check GET ${health.path}: ${result.detail})${hint}`,
        );
        return;
      }
    } else if (instance.consecutiveFailures >= health.unhealthyThreshold) {
      // Never eject the last ready instance: a struggling instance serves more than none does.
      if (!this.options.isLastReady(instance)) {
        this.options.fail(instance, `unhealthy: ${instance.consecutiveFailures} failed checks in a row (GET ${health.path}: ${result.detail})`);
        return;
      }
      if (instance.consecutiveFailures === health.unhealthyThreshold) this.options.warnLastReady(instance, result.detail);
    }
    const nowMs = this.options.now();
    const isStarting = instance.record.state === 'starting';
    this.schedule.at(
      instance,
      isStarting ? nowMs + startingCheckDelayMs(nowMs - instance.startedAtMs, health.intervalMs) : alignedCheckAtMs(nowMs, health.intervalMs),
    );
  }
}
