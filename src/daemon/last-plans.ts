import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TrafficPlan } from '../model/traffic-plan.js';

/**
 * How long one endpoint has to accept a connection for a remembered plan to be used. A live
 * instance's kernel accepts at once and a gone one refuses at once; the margin is for the
 * primary's own event loop, busy forking its workers meanwhile.
 */
const ENDPOINT_PROBE_TIMEOUT_MS = 2_000;
/** How long a remembered plan may serve without its controller pushing it again; then it is dropped. */
export const REMEMBERED_PLAN_LIMIT_MS = 60_000;

/** What the file holds: the plans, and the boot they were saved in. */
interface SavedPlans {
  bootId: string | null;
  plans: unknown;
}

/**
 * This boot of the machine (Linux), or null where unknown. After a reboot no instance outlived
 * anything, and a port that accepts connections may belong to some other program: plans saved
 * in another boot are never served.
 */
function currentBootId(): string | null {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

export function lastPlansFile(dataDir: string): string {
  return path.join(dataDir, 'last-plans.json');
}

/**
 * The primary's last plans, kept in the data dir (0600) so that the `cutover up` after a crash of
 * the primary serves the instances that outlived it at once, from its proxy workers' first
 * moment, instead of refusing connections until a new controller has loaded, adopted them and
 * pushed its plans (seconds on a loaded machine). A clean stop removes the file; a restart's new
 * daemon does not use it (the old workers serve until the new controller has pushed its plans).
 */
export class LastPlans {
  /** Apps served from a remembered plan that no controller has pushed again yet. */
  private readonly unconfirmed = new Set<string>();
  /** A write asked for in this turn of the event loop, not done yet. */
  private pendingWrite: NodeJS.Immediate | null = null;

  constructor(private readonly file: string) {}

  /**
   * Puts the servable remembered plans into `plans` (and their versions into `versions`, so the
   * controller's next plan is newer), where the controller has not pushed one yet. One the
   * controller has not pushed again within REMEMBERED_PLAN_LIMIT_MS (an app it no longer knows)
   * is dropped then.
   */
  async restore(options: {
    plans: Map<string, TrafficPlan>;
    versions: Map<string, number>;
    /** False for a restart's new daemon: the old workers serve until its controller has pushed its plans. */
    isWanted: boolean;
    log: (line: string) => void;
    drop: (app: string) => void;
  }): Promise<void> {
    const { plans, versions } = options;
    if (!options.isWanted) return;
    const remembered = (await this.readServable()).filter((plan) => !plans.has(plan.app));
    if (remembered.length === 0) return;
    for (const plan of remembered) {
      plans.set(plan.app, plan);
      versions.set(plan.app, Math.max(versions.get(plan.app) ?? 0, plan.version));
      this.unconfirmed.add(plan.app);
    }
    options.log(
      `serving the last plans of ${remembered.map((p) => p.app).join(', ')} (their instances outlived the previous daemon) until the controller pushes its own`,
    );
    setTimeout(() => {
      for (const app of this.unconfirmed) options.drop(app);
      this.unconfirmed.clear();
    }, REMEMBERED_PLAN_LIMIT_MS).unref();
  }

  /** Written whole (a temporary file renamed): a crash mid-write leaves the previous plans. `changedApp`'s plan came from the controller. */
  save(plans: Iterable<TrafficPlan>, changedApp?: string): void {
    if (changedApp !== undefined) this.unconfirmed.delete(changedApp);
    const temporary = `${this.file}.${process.pid}.tmp`;
    try {
      const saved: SavedPlans = { bootId: currentBootId(), plans: [...plans] };
      fs.writeFileSync(temporary, JSON.stringify(saved), { mode: 0o600 });
      fs.renameSync(temporary, this.file);
    } catch {
      // A full disk costs only the head start after a crash; the controller's plans still come.
    }
  }

  /**
   * `save`, once for every change of this turn of the event loop: `up` pushes a first plan for
   * every app at once, and writing every plan for each of them grew with apps² (at 100 apps the
   * primary spent seconds on it, delaying the plans). The file is only a head start after a crash.
   */
  saveSoon(plans: () => Iterable<TrafficPlan>, changedApp?: string): void {
    if (changedApp !== undefined) this.unconfirmed.delete(changedApp);
    this.pendingWrite ??= setImmediate(() => {
      this.pendingWrite = null;
      this.save(plans());
    });
  }

  /** After a clean stop: the apps are stopped, nothing is left for a plan to serve. */
  remove(): void {
    if (this.pendingWrite !== null) clearImmediate(this.pendingWrite);
    this.pendingWrite = null;
    fs.rmSync(this.file, { force: true });
  }

  /**
   * The remembered plans whose every endpoint still accepts connections (the instances outlived
   * the crash); any other plan waits for the controller. Empty when there is no file, or when it
   * was written in another boot of the machine.
   */
  async readServable(
    isReachable: (endpoint: { host: string; port: number }) => Promise<boolean> = acceptsConnections,
    bootId: string | null = currentBootId(),
  ): Promise<TrafficPlan[]> {
    const servable = await Promise.all(
      this.readSaved(bootId).map(async (plan) => {
        const endpoints = plan.groups.flatMap((g) => g.endpoints);
        const reachable = endpoints.length > 0 && (await Promise.all(endpoints.map(isReachable))).every(Boolean);
        return reachable ? plan : null;
      }),
    );
    return servable.filter((plan): plan is TrafficPlan => plan !== null);
  }

  /**
   * The apps whose saved plans put them on the front door's shared listeners. A restart's new
   * daemon reads them before its own plans overwrite the file: its workers accept on the
   * handed-over shared listeners only once they hold all of these (see `FrontDoor.listen`).
   */
  frontDoorApps(bootId: string | null = currentBootId()): string[] {
    return this.readSaved(bootId)
      .filter((plan) => plan.frontDoor !== undefined)
      .map((plan) => plan.app);
  }

  /** The instances the saved plans route to (a restart's new daemon holds them while the old one drains). */
  endpointIds(bootId: string | null = currentBootId()): string[] {
    return [...new Set(this.readSaved(bootId).flatMap((plan) => plan.groups.flatMap((group) => group.endpoints.map((endpoint) => endpoint.id))))];
  }

  /** The saved plans of this boot; none when there is no readable file. */
  private readSaved(bootId: string | null): TrafficPlan[] {
    let saved: Partial<SavedPlans> | null;
    try {
      saved = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<SavedPlans> | null;
    } catch {
      return [];
    }
    const plans = saved?.plans;
    if (saved?.bootId !== bootId || !Array.isArray(plans)) return [];
    return plans.filter(isPlanShaped);
  }
}

function isPlanShaped(value: unknown): value is TrafficPlan {
  const plan = value as TrafficPlan;
  return (
    typeof plan === 'object' &&
    plan !== null &&
    typeof plan.app === 'string' &&
    typeof plan.listen?.port === 'number' &&
    Array.isArray(plan.groups) &&
    plan.groups.every((g) => Array.isArray(g?.endpoints) && g.endpoints.every((e) => typeof e?.host === 'string' && typeof e?.port === 'number'))
  );
}

function acceptsConnections(endpoint: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, timeout: ENDPOINT_PROBE_TIMEOUT_MS });
    const done = (isReachable: boolean): void => {
      socket.destroy();
      resolve(isReachable);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
