import type { AppSpec, ContainerEngine, ContainerRuntimeSpec, RunSpec } from '../model/app-spec.js';
import type { Endpoint } from '../model/traffic-plan.js';

export interface StartRequest {
  app: string;
  revision: number;
  instanceId: string;
  run: RunSpec;
  /** File the instance's stdout and stderr are appended to. */
  logPath: string;
  /** Set for a container app: the instance is a container of this image instead of a process. */
  container?: ContainerRuntimeSpec;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (command not found, bad cwd). */
  spawnError?: string;
}

export interface StartedInstance {
  pid: number | null;
  /** Tells this process apart from a later one with the same pid (null when it never started). */
  identity: string | null;
  host: string;
  port: number;
  /** Resolves once when the instance's process is gone. */
  exited: Promise<ExitInfo>;
}

export interface AdoptedInstance extends StartedInstance {
  /** True when the process (or one of its group) still listens on the recorded port. */
  isListening: boolean;
}

export interface StopResult {
  /** True when SIGTERM was not enough and the group got SIGKILL. */
  wasKilled: boolean;
}

/** Runs instances of apps one by one: the local one spawns processes (a cluster runs replica counts: see RevisionRuntime). */
export interface Runtime {
  start(request: StartRequest): Promise<StartedInstance>;
  /**
   * Takes over an instance started by an earlier controller. Null when that process is gone,
   * or when its pid now belongs to another process (which must then be left alone).
   */
  adopt(instance: { pid: number; identity: string | null; port: number; logPath: string }): AdoptedInstance | null;
  /**
   * Stops, whatever it takes, a process started for `instanceId` whose pid was never recorded
   * (the controller died between starting it and writing its pid down). True when one was found.
   */
  stopUnrecorded(instanceId: string): Promise<boolean>;
  /** SIGTERM, then SIGKILL to the whole group after stopTimeoutMs; `identity` tells a container from a process. */
  stop(pid: number, stopTimeoutMs: number, identity?: string | null): Promise<StopResult>;
  /**
   * Removes what this data dir's instances left behind that no live record names (containers of
   * `engines`); returns what it removed. Processes need none: their records find them.
   */
  sweep?(keepInstanceIds: ReadonlySet<string>, engines: readonly ContainerEngine[]): Promise<string[]>;
  close(): void;
}

/** Turns a container app's image into the image ID a new revision records (pulling it when needed). */
export interface ImageResolver {
  resolveImage(container: ContainerRuntimeSpec): Promise<ContainerRuntimeSpec>;
}

/** What a revision runtime needs of a revision's spec. */
export type RevisionSpec = Pick<AppSpec, 'name' | 'health' | 'runtime'>;

/** What the cluster says about one revision of an app. */
export interface ObservedRevision {
  revision: number;
  /** The replica count asked for (spec.replicas of its ReplicaSet). */
  desiredReplicas: number;
  /** Ready instances with an address, as traffic-plan endpoints (id = pod name). */
  readyEndpoints: Endpoint[];
  /** Instances that exist but are not ready (starting, failing their probe). */
  unreadyPods: string[];
  /** Instances that exist and will not become ready by themselves (a crash loop, an image that cannot be pulled), with why; not in `unreadyPods`. */
  failedPods: { id: string; reason: string }[];
  /** Instances on their way out (deleted, shutting down gracefully). */
  terminatingPods: string[];
  /** Wall-clock ms since when each ready instance has been ready, where known. */
  readySinceMs: Record<string, number>;
}

/**
 * Runs an app by replica count per revision (Kubernetes): the cluster starts, restarts and stops
 * the instances, and the controller only says how many of each revision it wants. Every write is
 * idempotent.
 */
export interface RevisionRuntime {
  /** Every revision that exists for the app, oldest first. */
  observe(): Promise<ObservedRevision[]>;
  /** Creates the revision with `replicas` from its spec, or sets its count when it exists. */
  ensureRevision(revision: number, replicas: number, spec?: RevisionSpec): Promise<void>;
  scaleRevision(revision: number, replicas: number): Promise<void>;
  /** Deletes the revision and its instances; gone already is fine. */
  removeRevision(revision: number): Promise<void>;
  /**
   * Takes ready instances out of the cluster's traffic before their revision is scaled down, so
   * nothing routes to them by the time they are told to stop (see PodRetirement); optional.
   */
  takeOutOfTraffic?(instances: readonly string[]): Promise<void>;
  /** Stops instances taken out of traffic once nothing routes to them any more (in the background; they count as terminating meanwhile). */
  retire?(instances: readonly string[]): void;
}
