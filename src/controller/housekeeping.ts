import fs from 'node:fs';
import type { MeasurementHistory } from '../analysis/measurement-history.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Store } from '../store/store.js';
import { isStorageError } from '../store/storage-fault.js';
import type { StorageGuard } from './storage-guard.js';

/** How often the proxy's counts are gathered from every worker (off the request path) while they move. */
const MEASURE_EVERY_MS = 500;
/** After this many polls in a row found nothing new, the proxy is read again only once it says its counts moved. */
const QUIET_POLLS_BEFORE_REST = 2;
/** History is pruned this often, keeping this much. */
const PRUNE_EVERY_MS = 10 * 60_000;
const KEEP_EVENTS = 50_000;
const KEEP_ENDED_INSTANCES = 500;
/** Traffic seconds are kept a day: the before/during/after figures of any report written meanwhile. */
const KEEP_TRAFFIC_MS = 24 * 60 * 60_000;

export interface HousekeepingOptions {
  store: Store;
  router: TrafficRouter;
  history: MeasurementHistory;
  storage: StorageGuard;
  now: () => number;
  log: (line: string) => void;
}

/**
 * The controller's background chores: the proxy's counts gathered into the measurement history
 * (and stored for deploy reports), and the history kept bounded (old events, ended instances and
 * their log files). A router that says when its counts moved is not asked while they do not:
 * the history then takes a sample with the same counts, as a poll would have recorded.
 */
export class Housekeeping {
  private measureTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private isMeasuring = false;
  /** Counts moved lately (or the router cannot say): poll; otherwise wait for the router's word. */
  private isMoving = true;
  private quietPolls = 0;

  constructor(private readonly options: HousekeepingOptions) {}

  start(): void {
    const { store, history } = this.options;
    this.prune();
    history.restore(store.listMeasurementCursors());
    this.options.router.onMeasurementsMoved?.(() => {
      this.quietPolls = 0;
      if (!this.isMoving) void this.measure();
      this.isMoving = true;
    });
    void this.measure();
    this.measureTimer = setInterval(() => this.sample(), MEASURE_EVERY_MS);
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS);
  }

  stop(): void {
    if (this.measureTimer) clearInterval(this.measureTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  private sample(): void {
    const { router } = this.options;
    const isPolledOnly = router.onMeasurementsMoved === undefined || router.hasPolledMeasurements?.() === true;
    if (this.isMoving || isPolledOnly) void this.measure();
    else this.options.history.recordUnchanged(this.options.now());
  }

  /** Gathers the proxy's counts; a slow or missing answer only makes a coarser sample. */
  private async measure(): Promise<void> {
    const { router, history, storage, store } = this.options;
    if (this.isMeasuring || !router.measurements) return;
    this.isMeasuring = true;
    try {
      const sources = await router.measurements();
      const delta = history.record(this.options.now(), sources);
      const isQuiet = delta.revisions.length === 0 && delta.unrouted.size === 0 && delta.cursors.length === 0;
      this.quietPolls = isQuiet ? this.quietPolls + 1 : 0;
      if (this.quietPolls >= QUIET_POLLS_BEFORE_REST) this.isMoving = false;
      // Kept for deploy reports: a restarted controller counts on from the cursors stored here.
      if (storage.fault === null) store.addTraffic(Date.now(), delta);
    } catch (error) {
      if (isStorageError(error)) storage.hold((error as Error).message);
      else this.options.log(`gathering proxy counts failed: ${(error as Error).message}`);
    } finally {
      this.isMeasuring = false;
    }
  }

  private prune(): void {
    for (const logPath of this.options.store.prune({ keepEvents: KEEP_EVENTS, keepEndedInstances: KEEP_ENDED_INSTANCES, keepTrafficMs: KEEP_TRAFFIC_MS })) {
      fs.rmSync(logPath, { force: true });
      for (const extra of ['.1', '.times', '.times.1']) fs.rmSync(`${logPath}${extra}`, { force: true });
    }
  }
}
