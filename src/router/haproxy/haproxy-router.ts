import fs from 'node:fs';
import path from 'node:path';
import { CutoverError } from '../../errors.js';
import type { TrafficPlan } from '../../model/traffic-plan.js';
import type { EndpointStats, TrafficRouter } from '../traffic-router.js';
import { frontendRules, renderManagedConfig, type AppFrontend, type ServerLine } from './haproxy-config.js';
import { listenKey, mapFileName, mapFilePath, REVISION_BACKENDS, revisionBackendName, type MapKind } from './haproxy-layout.js';
import { routedRevisions, serverWeights, stickyBuckets } from './haproxy-plan.js';
import { ManagedHaproxy } from './managed-haproxy.js';
import { RuntimeApi, escapeArg, type ServerStatRow } from './runtime-api.js';
import { HaproxyMeter, type EndpointOwner } from './haproxy-meter.js';
import type { SourcedMeasurements } from '../../analysis/measurement-history.js';

export const HAPROXY_MODES = ['managed', 'external'] as const;
export type HaproxyMode = (typeof HAPROXY_MODES)[number];

export const DEFAULT_HAPROXY_SERVER_SLOTS = 16;
export const DEFAULT_HAPROXY_BINARY = 'haproxy';
/** How often the router asks HAProxy whether it was reloaded or restarted. */
export const DEFAULT_HAPROXY_WATCH_INTERVAL_MS = 500;
/** Endpoints whose app and revision are remembered for the meter; the oldest go first. */
const MAX_OWNERS = 5_000;
/** A server that just left counts as busy this long, in case a request picked it just before. */
const LEAVE_SETTLE_MS = 100;

export interface HaproxyRouterOptions {
  mode: HaproxyMode;
  /** External mode: HAProxy's stats socket (admin level). */
  socket?: string;
  /** The weighted backend of an app. */
  backendOf: (app: string) => string;
  /** Managed mode: server slots per backend. */
  serverSlots?: number;
  /**
   * Rule names an app's plans may use later (its strategy's route headers and cookies, sticky
   * cookie, preview listeners): known up front, the managed config has them from the start and
   * a rollout does not need a reload.
   */
  frontendHintsOf?: (app: string) => FrontendHints;
  binary?: string;
  /** Managed files (config, maps, sockets) and the router's own state. */
  stateDir: string;
  watchIntervalMs?: number;
  log?: (line: string) => void;
  /** Monotonic ms. */
  now?: () => number;
}

export type FrontendHints = Pick<AppFrontend, 'headerNames' | 'cookieNames' | 'stickyCookie' | 'previews'>;

type SlotState = 'ready' | 'drain' | 'maint';

/** One HAProxy server, as cutover last set it. */
interface Slot {
  backend: string;
  server: string;
  endpointId: string | null;
  host: string;
  port: number;
  weight: number;
  state: SlotState;
  /** Out of the plan, draining: freed once it has nothing in flight. */
  isLeaving: boolean;
  leftAtMs: number | null;
}

interface AppEntry {
  plan: TrafficPlan;
  frontend: AppFrontend;
  /** Revision → index of its revision backend. */
  revisionIndex: Record<string, number>;
}

interface PersistedState {
  apps: AppEntry[];
  slots: Slot[];
  installedStructure: string;
}

/**
 * HAProxy as cutover's data plane, driven over its runtime API. Endpoints fill server slots
 * (`set server addr/weight/state`), leaving endpoints drain and are freed once HAProxy counts
 * nothing in flight on them, routes, previews and sticky buckets live in maps replaced
 * atomically (`prepare map`/`commit map`). A reload or restart of HAProxy (a new worker pid)
 * makes the router push everything again. In managed mode it also writes, checks and runs
 * HAProxy itself, with the current servers in the config so a reload keeps them.
 *
 * @example
 * const router = new HaproxyRouter({ mode: 'managed', stateDir: '.cutover/haproxy', backendOf: (app) => `cutover_${app}` });
 * await router.applyPlan(plan);
 * await router.inflight(); // { 'web-1-a1b2c3': 3 }
 */
export class HaproxyRouter implements TrafficRouter {
  private readonly api: RuntimeApi;
  private readonly managed: ManagedHaproxy | null;
  private readonly apps = new Map<string, AppEntry>();
  private readonly slots = new Map<string, Slot[]>();
  /** What HAProxy holds, as far as this router knows: `backend/server` → state key, map file → content key. */
  private readonly pushedServers = new Map<string, string>();
  private readonly pushedMaps = new Map<string, string>();
  /** External mode: map base name → the file HAProxy loaded it from. */
  private mapFiles = new Map<string, string>();
  private installedStructure = '';
  private queue: Promise<unknown> = Promise.resolve();
  private watchTimer: NodeJS.Timeout | null = null;
  private workerPid: string | null = null;
  private isClosed = false;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly serverSlots: number;
  private readonly stateFile: string;
  private readonly meter = new HaproxyMeter();
  /** The app and revision of every endpoint a plan named, for the meter. */
  private readonly owners = new Map<string, EndpointOwner>();

  constructor(private readonly options: HaproxyRouterOptions) {
    this.log = options.log ?? (() => {});
    this.now = options.now ?? (() => performance.now());
    this.serverSlots = options.serverSlots ?? DEFAULT_HAPROXY_SERVER_SLOTS;
    fs.mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
    this.stateFile = path.join(options.stateDir, 'router-state.json');
    if (options.mode === 'managed') {
      this.managed = new ManagedHaproxy(options.stateDir, options.binary ?? DEFAULT_HAPROXY_BINARY, this.log);
      this.api = this.managed.stats;
    } else {
      if (!options.socket)
        throw new CutoverError('HAPROXY_SOCKET_MISSING', 'router.haproxy.socket is required in external mode', {
          hint: 'Name the runtime API socket of your HAProxy, e.g. socket: /run/haproxy/admin.sock',
        });
      this.managed = null;
      this.api = new RuntimeApi(options.socket);
    }
    this.restore();
    this.watchTimer = setInterval(() => void this.watch(), options.watchIntervalMs ?? DEFAULT_HAPROXY_WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  applyPlan(plan: TrafficPlan): Promise<void> {
    return this.serialize(() => this.apply(plan));
  }

  removeApp(app: string): Promise<void> {
    return this.serialize(() => this.remove(app));
  }

  async inflight(): Promise<Record<string, number>> {
    if (this.apps.size === 0 && ![...this.slots.values()].some((list) => list.some((s) => s.endpointId !== null))) return {};
    const rows = await this.api.showStat();
    const counts: Record<string, number> = {};
    const nowMs = this.now();
    for (const slot of this.allSlots()) {
      if (slot.endpointId === null) continue;
      const row = rows.find((r) => r.backend === slot.backend && r.server === slot.server);
      let count = row ? row.current + row.queued : 0;
      if (slot.isLeaving && slot.leftAtMs !== null && nowMs - slot.leftAtMs < LEAVE_SETTLE_MS) count = Math.max(count, 1);
      if (count > 0) counts[slot.endpointId] = (counts[slot.endpointId] ?? 0) + count;
    }
    void this.serialize(() => this.reap(rows)).catch((error: unknown) => this.log(`haproxy: freeing drained servers failed: ${(error as Error).message}`));
    return counts;
  }

  /** Counters per endpoint from `show stat`, summed over the weighted and revision backends. */
  async endpointStats(): Promise<EndpointStats[]> {
    const rows = await this.api.showStat();
    const byId = new Map<string, EndpointStats>();
    for (const slot of this.allSlots()) {
      if (slot.endpointId === null) continue;
      const row = rows.find((r) => r.backend === slot.backend && r.server === slot.server);
      if (!row) continue;
      const stats = byId.get(slot.endpointId) ?? emptyStats(slot.endpointId);
      addRow(stats, row);
      byId.set(slot.endpointId, stats);
    }
    return [...byId.values()];
  }

  /**
   * The built-in measurements of the apps HAProxy routes, from its server counters (see
   * `HaproxyMeter`): one source per HAProxy, cumulative across its reloads.
   */
  async measurements(): Promise<SourcedMeasurements[]> {
    if (this.apps.size === 0) return [];
    this.meter.update(await this.api.showStat(), this.allSlots(), (id) => this.owners.get(id));
    return [{ source: `haproxy:${this.api.socketPath}`, endpoints: this.meter.snapshot(), unrouted: {} }];
  }

  /** Stops watching; a managed HAProxy is stopped gracefully. */
  async close(): Promise<void> {
    this.isClosed = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    await this.queue.catch(() => undefined);
    await this.managed?.stop();
  }

  /** The frontend lines an existing HAProxy needs for an app's routes, previews and sticky cookie (external mode). */
  static externalFrontendRules(frontend: Pick<AppFrontend, 'backend' | 'headerNames' | 'cookieNames' | 'stickyCookie'>, mapsDir: string): string[] {
    return frontendRules(frontend, (kind) => mapFilePath(mapsDir, frontend.backend, kind));
  }

  // ---- applying a plan ------------------------------------------------------------------

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(plan: TrafficPlan): Promise<void> {
    if (this.isClosed) throw new CutoverError('ROUTER_CLOSED', `cannot apply a plan for "${plan.app}": the HAProxy router is closed`);
    const entry = this.entryFor(plan);
    for (const group of plan.groups) for (const e of group.endpoints) this.owners.set(e.id, { app: plan.app, revision: group.revision });
    while (this.owners.size > MAX_OWNERS) this.owners.delete(this.owners.keys().next().value!);
    await this.ensureStructure();
    if (this.managed === null) await this.discover(entry);
    const backend = entry.frontend.backend;

    // Revision backends for the revisions a request must reach by name.
    const routed = routedRevisions(plan);
    for (const revision of Object.keys(entry.revisionIndex)) if (!routed.includes(Number(revision))) delete entry.revisionIndex[revision];
    for (const revision of routed) {
      if (entry.revisionIndex[revision] !== undefined) continue;
      const used = new Set(Object.values(entry.revisionIndex));
      const free = Array.from({ length: REVISION_BACKENDS }, (_, i) => i).find((i) => !used.has(i) && this.slots.has(revisionBackendName(backend, i)));
      if (free === undefined)
        throw new CutoverError(
          'HAPROXY_NO_REVISION_BACKEND',
          `app "${plan.app}" needs a revision backend for revision ${revision}, but ${backend}_r0..r${REVISION_BACKENDS - 1} are all taken or missing`,
          { hint: 'Declare the revision backends (see the README, HAProxy external mode).' },
        );
      entry.revisionIndex[revision] = free;
    }

    const weights = serverWeights(plan);
    const wanted = new Map<string, Map<string, { host: string; port: number; weight: number; state: SlotState }>>();
    const weighted = new Map<string, { host: string; port: number; weight: number; state: SlotState }>();
    for (const group of plan.groups) {
      for (const e of group.endpoints) {
        const weight = weights.get(e.id) ?? 0;
        weighted.set(e.id, { host: e.host, port: e.port, weight, state: weight > 0 ? 'ready' : 'drain' });
      }
    }
    wanted.set(backend, weighted);
    for (let i = 0; i < REVISION_BACKENDS; i++) {
      const name = revisionBackendName(backend, i);
      if (!this.slots.has(name)) continue;
      const revision = Object.entries(entry.revisionIndex).find(([, index]) => index === i)?.[0];
      const group = plan.groups.find((g) => String(g.revision) === revision);
      wanted.set(name, new Map((group?.endpoints ?? []).map((e) => [e.id, { host: e.host, port: e.port, weight: 1, state: 'ready' as const }])));
    }

    const nowMs = this.now();
    for (const [name, endpoints] of wanted) {
      const slots = this.slots.get(name)!;
      for (const [id, want] of endpoints) {
        const slot = slots.find((s) => s.endpointId === id) ?? slots.find((s) => s.endpointId === null);
        if (!slot)
          throw new CutoverError(
            'HAPROXY_NO_FREE_SERVER',
            `backend ${name} has no free server slot for ${id} (${slots.length} slots, all in use or draining)`,
            { hint: 'Raise router.haproxy.servers (managed) or the server-template count (external).' },
          );
        Object.assign(slot, { endpointId: id, ...want, isLeaving: false, leftAtMs: null });
      }
      for (const slot of slots) {
        if (slot.endpointId !== null && !endpoints.has(slot.endpointId) && !slot.isLeaving)
          Object.assign(slot, { state: 'drain', isLeaving: true, leftAtMs: nowMs });
      }
    }

    // Add before remove: servers that take traffic first, then the maps, then what drains.
    const touched = [...wanted.keys()].flatMap((name) => this.slots.get(name)!);
    for (const slot of touched) if (slot.state === 'ready') await this.pushSlot(slot);
    await this.pushMaps(entry);
    for (const slot of touched) if (slot.state !== 'ready') await this.pushSlot(slot);
    this.afterChange();
  }

  /** The app's entry, with any new rule names added to its frontend (names are never dropped while the app lives). */
  private entryFor(plan: TrafficPlan): AppEntry {
    let entry = this.apps.get(plan.app);
    if (!entry) {
      const backend = this.options.backendOf(plan.app);
      entry = {
        plan,
        frontend: { app: plan.app, backend, listen: plan.listen, previews: [], headerNames: [], cookieNames: [], stickyCookie: null },
        revisionIndex: {},
      };
      this.apps.set(plan.app, entry);
    }
    entry.plan = plan;
    const front = entry.frontend;
    front.listen = plan.listen;
    const hints = this.options.frontendHintsOf?.(plan.app);
    for (const name of hints?.headerNames ?? []) if (!front.headerNames.includes(name.toLowerCase())) front.headerNames.push(name.toLowerCase());
    for (const name of hints?.cookieNames ?? []) if (!front.cookieNames.includes(name)) front.cookieNames.push(name);
    for (const preview of hints?.previews ?? []) if (!front.previews.some((p) => listenKey(p) === listenKey(preview))) front.previews.push(preview);
    if (hints?.stickyCookie && front.stickyCookie === null) front.stickyCookie = hints.stickyCookie;
    for (const route of plan.routes ?? []) {
      if ('header' in route.match && !front.headerNames.includes(route.match.header.name.toLowerCase()))
        front.headerNames.push(route.match.header.name.toLowerCase());
      if ('cookie' in route.match && !front.cookieNames.includes(route.match.cookie.name)) front.cookieNames.push(route.match.cookie.name);
    }
    for (const preview of plan.previews ?? []) if (!front.previews.some((p) => listenKey(p) === listenKey(preview.listen))) front.previews.push(preview.listen);
    if (plan.sticky) front.stickyCookie = plan.sticky.cookie;
    this.ensureSlots(front.backend);
    return entry;
  }

  private ensureSlots(backend: string): void {
    if (this.managed === null) return;
    for (const name of [backend, ...Array.from({ length: REVISION_BACKENDS }, (_, i) => revisionBackendName(backend, i))]) {
      if (this.slots.has(name)) continue;
      this.slots.set(
        name,
        Array.from({ length: this.serverSlots }, (_, n) => freeSlot(name, `s${n + 1}`)),
      );
    }
  }

  /** Managed mode: a config with every app's frontend, installed (checked) and loaded when the set of names changed. */
  private async ensureStructure(): Promise<void> {
    if (this.managed === null) return;
    const structure = JSON.stringify([...this.apps.values()].map((e) => e.frontend));
    const isRunning = this.managed.masterPid() !== null;
    if (structure === this.installedStructure && isRunning) return;
    this.writeMapFiles();
    await this.managed.install(this.renderConfig());
    if (!isRunning) {
      const how = await this.managed.start();
      if (how === 'adopted') await this.managed.reload();
    } else {
      await this.managed.reload();
    }
    this.workerPid = (await this.api.showInfo())['Pid'] ?? null;
    // The new worker holds what the config says; say nothing is known, so everything is pushed once more.
    this.pushedServers.clear();
    this.pushedMaps.clear();
    this.installedStructure = structure;
  }

  /** External mode: finds the app's backends (server names from `show servers state`) and maps (`show map`). */
  private async discover(entry: AppEntry): Promise<void> {
    const backend = entry.frontend.backend;
    const names = [backend, ...Array.from({ length: REVISION_BACKENDS }, (_, i) => revisionBackendName(backend, i))];
    if (names.every((n) => this.slots.has(n)) && this.mapFiles.size > 0) return;
    const states = await this.api.showServersState();
    for (const name of names) {
      if (this.slots.has(name)) continue;
      const rows = states.filter((r) => r.backend === name);
      if (rows.length === 0) {
        if (name === backend)
          throw new CutoverError('HAPROXY_BACKEND_MISSING', `HAProxy has no backend "${backend}" with servers for app "${entry.plan.app}"`, {
            hint: `Add to your HAProxy config: backend ${backend} / server-template s 1-16 127.0.0.1:1 disabled (see the README).`,
          });
        continue;
      }
      this.slots.set(
        name,
        rows.map((r) => freeSlot(name, r.server)),
      );
    }
    this.mapFiles = new Map((await this.api.showMaps()).map((m) => [path.basename(m.file), m.file]));
  }

  private async pushSlot(slot: Slot): Promise<void> {
    const key = `${slot.backend}/${slot.server}`;
    const wanted = `${slot.host}:${slot.port}|${slot.weight}|${slot.state}`;
    const known = this.pushedServers.get(key);
    if (known === wanted) return;
    const commands: string[] = [];
    if (known === undefined || known.split('|')[0] !== `${slot.host}:${slot.port}`) commands.push(`set server ${key} addr ${slot.host} port ${slot.port}`);
    if (slot.state === 'ready') commands.push(`set server ${key} weight ${slot.weight}`);
    commands.push(`set server ${key} state ${slot.state}`);
    const answer = await this.api.send(commands.join(';'));
    const problems = answer.split('\n').filter((l) => l.trim() !== '' && !/changed from|no need to change/i.test(l));
    if (problems.length > 0) {
      this.pushedServers.delete(key);
      throw new CutoverError('HAPROXY_COMMAND_FAILED', `HAProxy refused "${commands.join('; ')}": ${problems.join(' ')}`);
    }
    this.pushedServers.set(key, wanted);
  }

  private mapContents(entry: AppEntry): Map<MapKind, [string, string][]> {
    const { plan, frontend } = entry;
    const backendOf = (revision: number): string | undefined => {
      const index = entry.revisionIndex[revision];
      return index === undefined ? undefined : revisionBackendName(frontend.backend, index);
    };
    const contents = new Map<MapKind, [string, string][]>();
    const add = (kind: MapKind, key: string, revision: number): void => {
      const target = backendOf(revision);
      const list = contents.get(kind)!;
      if (target !== undefined && !list.some(([k]) => k === key)) list.push([key, target]);
    };
    for (const name of frontend.headerNames) {
      const kind = { header: name };
      contents.set(kind, []);
      for (const route of plan.routes ?? [])
        if ('header' in route.match && route.match.header.name.toLowerCase() === name) add(kind, route.match.header.value, route.revision);
    }
    for (const name of frontend.cookieNames) {
      const kind = { cookie: name };
      contents.set(kind, []);
      for (const route of plan.routes ?? [])
        if ('cookie' in route.match && route.match.cookie.name === name) add(kind, route.match.cookie.value, route.revision);
    }
    // Only maps the frontend's rules read exist (HAProxy loads a map only when a rule names it).
    if (frontend.previews.length > 0 || (plan.previews ?? []).length > 0) {
      contents.set('preview', []);
      for (const preview of plan.previews ?? []) add('preview', listenKey(preview.listen), preview.revision);
    }
    if (frontend.stickyCookie !== null) {
      contents.set('sticky', []);
      stickyBuckets(plan).forEach((revision, bucket) => add('sticky', String(bucket), revision));
      contents.set('meta', plan.sticky ? [['ttl', String(Math.max(1, Math.round(plan.sticky.ttlMs / 1000)))]] : []);
    }
    return contents;
  }

  private async pushMaps(entry: AppEntry): Promise<void> {
    for (const [kind, entries] of this.mapContents(entry)) {
      const name = mapFileName(entry.frontend.backend, kind);
      const file = this.managed ? path.join(this.managed.paths.mapsDir, name) : this.mapFiles.get(name);
      if (file === undefined) {
        if (entries.length === 0) continue;
        throw new CutoverError('HAPROXY_MAP_MISSING', `app "${entry.plan.app}" needs the map ${name}, but HAProxy has not loaded it`, {
          hint: `Add the rules printed by the README's external-mode section to your frontend, with the map file ${name}, then reload HAProxy.`,
        });
      }
      const content = JSON.stringify(entries);
      if (this.pushedMaps.get(file) === content) continue;
      await this.api.replaceMap(file, entries);
      this.pushedMaps.set(file, content);
    }
  }

  /** Frees leaving servers that have nothing in flight: maintenance, address forgotten. */
  private async reap(rows: ServerStatRow[]): Promise<void> {
    const nowMs = this.now();
    let changed = false;
    for (const slot of this.allSlots()) {
      if (!slot.isLeaving || slot.leftAtMs === null || nowMs - slot.leftAtMs < LEAVE_SETTLE_MS) continue;
      const row = rows.find((r) => r.backend === slot.backend && r.server === slot.server);
      if (row && row.current + row.queued > 0) continue;
      Object.assign(slot, { endpointId: null, state: 'maint', isLeaving: false, leftAtMs: null, weight: 1 });
      await this.pushSlot(slot);
      changed = true;
    }
    if (changed) this.afterChange();
  }

  private async remove(app: string): Promise<void> {
    const entry = this.apps.get(app);
    if (!entry) return;
    this.apps.delete(app);
    const backend = entry.frontend.backend;
    const names = [backend, ...Array.from({ length: REVISION_BACKENDS }, (_, i) => revisionBackendName(backend, i))];
    if (this.managed !== null) {
      for (const name of names) this.slots.delete(name);
      if (this.apps.size === 0) {
        await this.managed.stop();
        this.installedStructure = '';
      } else {
        await this.ensureStructure();
      }
    } else {
      // An existing HAProxy keeps its frontend: the app's servers drain, its maps empty.
      const nowMs = this.now();
      for (const name of names) {
        for (const slot of this.slots.get(name) ?? []) {
          if (slot.endpointId !== null && !slot.isLeaving) Object.assign(slot, { state: 'drain', isLeaving: true, leftAtMs: nowMs });
          await this.pushSlot(slot);
        }
      }
      for (const [kind] of this.mapContents(entry)) {
        const file = this.mapFiles.get(mapFileName(backend, kind));
        if (file !== undefined) await this.api.replaceMap(file, []);
      }
    }
    this.afterChange();
  }

  // ---- reloads and restarts -------------------------------------------------------------

  /** Notices a new worker (reload or restart) and pushes every plan again; restarts a managed HAProxy that died. */
  private async watch(): Promise<void> {
    if (this.isClosed || this.apps.size === 0) return;
    try {
      const pid = (await this.api.showInfo())['Pid'] ?? null;
      if (this.workerPid !== null && pid !== this.workerPid) {
        this.log(`haproxy: worker ${this.workerPid} was replaced by ${pid} (reload or restart); applying every plan again`);
        this.workerPid = pid;
        await this.resync();
        return;
      }
      this.workerPid = pid;
    } catch (error) {
      if (this.managed !== null && this.managed.masterPid() === null) {
        this.log(`haproxy: the managed HAProxy is gone (${(error as Error).message}); starting it again`);
        this.installedStructure = '';
        await this.resync();
      }
    }
  }

  private resync(): Promise<void> {
    return this.serialize(async () => {
      this.pushedServers.clear();
      this.pushedMaps.clear();
      this.mapFiles = new Map();
      for (const entry of [...this.apps.values()]) {
        await this.apply(entry.plan);
        // Leaving servers are not in any plan: push them as they are so they stay out of rotation.
        for (const slot of this.allSlots()) await this.pushSlot(slot);
      }
      if (this.managed === null) this.workerPid = (await this.api.showInfo())['Pid'] ?? null;
    }).catch((error: unknown) => {
      // Try again at the next watch.
      this.workerPid = 'unknown';
      this.log(`haproxy: applying the plans again failed: ${(error as Error).message}`);
    });
  }

  // ---- state ----------------------------------------------------------------------------

  private allSlots(): Slot[] {
    return [...this.slots.values()].flat();
  }

  /** Managed: the config and map files follow every change, so a reload by anyone keeps the traffic as it is. Then the state file. */
  private afterChange(): void {
    if (this.managed !== null && this.apps.size > 0) {
      this.writeMapFiles();
      this.managed.rewrite(this.renderConfig());
    }
    const state: PersistedState = { apps: [...this.apps.values()], slots: this.allSlots(), installedStructure: this.installedStructure };
    fs.writeFileSync(`${this.stateFile}.new`, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(`${this.stateFile}.new`, this.stateFile);
  }

  private restore(): void {
    let state: PersistedState;
    try {
      state = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as PersistedState;
    } catch {
      return;
    }
    for (const entry of state.apps) {
      this.apps.set(entry.plan.app, entry);
      for (const group of entry.plan.groups) for (const e of group.endpoints) this.owners.set(e.id, { app: entry.plan.app, revision: group.revision });
    }
    for (const slot of state.slots)
      this.slots.set(slot.backend, [...(this.slots.get(slot.backend) ?? []), { ...slot, leftAtMs: slot.isLeaving ? this.now() : null }]);
    this.installedStructure = state.installedStructure;
    if (this.managed === null) this.mapFiles = new Map();
  }

  private renderConfig(): string {
    const servers = new Map<string, ServerLine[]>();
    for (const [name, slots] of this.slots) {
      servers.set(
        name,
        slots.map((s) => ({
          name: s.server,
          host: s.endpointId === null ? '127.0.0.1' : s.host,
          port: s.endpointId === null ? 1 : s.port,
          weight: s.weight,
          state: s.endpointId === null ? 'maint' : s.state,
        })),
      );
    }
    return renderManagedConfig({
      statsSocket: this.managed!.paths.statsSocket,
      mapsDir: this.managed!.paths.mapsDir,
      apps: [...this.apps.values()].map((e) => e.frontend),
      servers,
      serverSlots: this.serverSlots,
    });
  }

  private writeMapFiles(): void {
    if (this.managed === null) return;
    for (const entry of this.apps.values()) {
      for (const [kind, entries] of this.mapContents(entry)) {
        const file = path.join(this.managed.paths.mapsDir, mapFileName(entry.frontend.backend, kind));
        const text = entries.map(([key, value]) => `${escapeArg(key)} ${value}\n`).join('');
        fs.writeFileSync(`${file}.new`, text, { mode: 0o600 });
        fs.renameSync(`${file}.new`, file);
      }
    }
  }
}

function freeSlot(backend: string, server: string): Slot {
  return { backend, server, endpointId: null, host: '127.0.0.1', port: 1, weight: 1, state: 'maint', isLeaving: false, leftAtMs: null };
}

function emptyStats(endpointId: string): EndpointStats {
  return {
    endpointId,
    requests: 0,
    inflight: 0,
    responses2xx: 0,
    responses5xx: 0,
    connectionErrors: 0,
    responseErrors: 0,
    retries: 0,
    redispatches: 0,
    avgResponseTimeMs: 0,
  };
}

function addRow(stats: EndpointStats, row: ServerStatRow): void {
  const requests = stats.requests + row.total;
  // Response times are averages per server: weigh them by requests.
  stats.avgResponseTimeMs = requests === 0 ? 0 : (stats.avgResponseTimeMs * stats.requests + row.avgResponseTimeMs * row.total) / requests;
  stats.requests = requests;
  stats.inflight += row.current + row.queued;
  stats.responses2xx += row.responses2xx;
  stats.responses5xx += row.responses5xx;
  stats.connectionErrors += row.connectionErrors;
  stats.responseErrors += row.responseErrors;
  stats.retries += row.retries;
  stats.redispatches += row.redispatches;
}
