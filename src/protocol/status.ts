import type { InstanceState, RolloutPhase, StrategyName } from '../model/rollout.js';
import type { TrafficShare } from '../model/records.js';

/** The `cutover status --json` contract. Extend, never rename. */
export interface StatusReport {
  apps: AppStatus[];
  /** Set while the state cannot be written (disk full): why. Every active rollout shows `paused` meanwhile. */
  storageFault?: string;
  /** The front door's own counts; absent when the proxy has no shared listener (`proxy.listen`). */
  frontDoor?: FrontDoorStatus;
}

export interface FrontDoorStatus {
  /** Requests for a host no app serves (404 plain, 421 TLS), summed over proxy workers since the daemon's controller started. */
  unknownHostRequests: number;
}

export interface AppStatus {
  name: string;
  /** The stable revision number, or null before the first successful deploy. */
  revision: number | null;
  rollout: RolloutStatus | null;
  instances: InstanceStatus[];
  /** A cluster app driven by another cutover: who holds its Lease (the state shown is the one it wrote to the cluster). */
  drivenBy?: string;
  /** The split the proxy serves now: percent of weighted traffic per revision (routes and previews aside). */
  traffic: TrafficShare[];
}

export interface RolloutStatus {
  id: number;
  phase: RolloutPhase;
  strategy: StrategyName;
  step: string;
  fromRevision: number | null;
  toRevision: number;
  reason: string | null;
  /** The steps of a canary (or blue-green's preview and switch), in words; empty for rolling. */
  steps: string[];
  /** Index into `steps` of the current one; `steps.length` once past the last. */
  stepIndex: number;
  /** What the rollout waits for from a person (`cutover promote`), or null. */
  gate: string | null;
  /** True while a person paused it (`cutover pause`). */
  isPausedByUser: boolean;
  /** A revision kept up out of traffic after the rollout ended, and until when (ISO time). */
  warm: { revision: number; until: string } | null;
  /** Its analysis runs: where each template stands, with the last measurement in words. */
  analysis: { template: string; point: string; state: string; measurements: number; last: string | null; reason: string | null }[];
}

export interface InstanceStatus {
  id: string;
  revision: number;
  pid: number | null;
  port: number;
  state: InstanceState;
  /** Why it failed, where cutover knows it: a cluster pod that crash-loops or cannot pull its image (its state is `failed`). */
  reason?: string;
  /** The health check's last answer (for example `HTTP 503`, `ECONNREFUSED`), for a live local instance this controller checks. */
  lastCheck?: string;
}
