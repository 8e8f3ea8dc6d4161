import type { V1ConfigMap } from '@kubernetes/client-node';
import { z } from 'zod';
import { CutoverError } from '../../errors.js';
import type { ClusterAppState } from '../../store/store.js';
import { APP_LABEL, kubernetesError, MANAGED_BY, MANAGED_BY_LABEL, statusOf, type KubeClients } from './kube-clients.js';

/** The ConfigMap key that holds the app's state (JSON). */
export const STATE_KEY = 'state.json';
export const WRITTEN_BY_ANNOTATION = 'cutover.dev/written-by';
export const SERIAL_ANNOTATION = 'cutover.dev/serial';
/** The shape of the stored state; a cutover that finds a newer one refuses to guess. */
export const STATE_FORMAT = 1;

/** The app's state as found on the cluster, with who wrote it last and how many writes it has seen. */
export interface ClusterStateDocument {
  writtenBy: string;
  serial: number;
  state: ClusterAppState;
}

// What another machine wrote is checked before it is trusted: enough to drive the app on, the rest passes as written.
const revisionShape = z.looseObject({
  app: z.string(),
  number: z.number().int().positive(),
  specHash: z.string(),
  spec: z.looseObject({ name: z.string() }),
  createdAt: z.number(),
});
const rolloutShape = z.looseObject({
  key: z.string().min(1),
  app: z.string(),
  strategy: z.enum(['rolling', 'blue-green', 'canary']),
  fromRevision: z.number().int().nullable(),
  toRevision: z.number().int(),
  phase: z.enum(['progressing', 'paused', 'promoted', 'aborted', 'rolled-back', 'failed']),
  direction: z.enum(['forward', 'back']),
  stepIndex: z.number().int().min(0),
  startedAt: z.number(),
  updatedAt: z.number(),
  stepStartedAt: z.number(),
  hookRuns: z.array(z.looseObject({ point: z.string(), pointKey: z.string(), index: z.number().int(), state: z.string() })),
  analysisRuns: z.array(z.looseObject({ pointKey: z.string(), template: z.string(), state: z.string() })),
});
const stateShape = z.object({
  format: z.literal(STATE_FORMAT),
  app: z.string(),
  stableRevision: z.number().int().nullable(),
  revisions: z.array(revisionShape),
  rollouts: z.array(rolloutShape),
});

/**
 * A ConfigMap per app (`cutover-web`, beside the Lease of the same name) that holds where the
 * app stands: revisions, the stable one, recent rollouts. The cutover holding the app's Lease
 * writes it after every change; any other cutover, on any machine, reads it to show the app or
 * to drive it on once the Lease is free. Writes carry the resourceVersion last seen, so a writer
 * that lost the Lease without knowing cannot overwrite a newer state blindly.
 *
 * @example
 * const map = new KubernetesStateMap(clients, 'web');
 * const found = await map.read(); // null: no cutover has driven "web" on this cluster yet
 * await map.write(state, 'ci-runner-7:/builds/.cutover');
 */
export class KubernetesStateMap {
  readonly name: string;
  private resourceVersion: string | undefined;
  private serial = 0;

  constructor(
    private readonly clients: KubeClients,
    private readonly app: string,
  ) {
    this.name = `cutover-${app}`;
  }

  async read(): Promise<ClusterStateDocument | null> {
    const { core, namespace } = this.clients;
    let map: V1ConfigMap;
    try {
      map = await core.readNamespacedConfigMap({ name: this.name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) {
        this.resourceVersion = undefined;
        return null;
      }
      throw kubernetesError(`reading ConfigMap ${namespace}/${this.name}`, error);
    }
    this.resourceVersion = map.metadata?.resourceVersion;
    const annotations = map.metadata?.annotations ?? {};
    this.serial = Number(annotations[SERIAL_ANNOTATION] ?? 0) || 0;
    return { writtenBy: annotations[WRITTEN_BY_ANNOTATION] ?? '', serial: this.serial, state: this.parse(map.data?.[STATE_KEY]) };
  }

  /** Writes the state as `writtenBy`; returns the new serial. A 409 (someone wrote meanwhile) reads again and writes over it. */
  async write(state: ClusterAppState, writtenBy: string): Promise<number> {
    const { core, namespace } = this.clients;
    for (let attempt = 0; attempt < 4; attempt++) {
      const body = this.body(state, writtenBy, this.serial + 1);
      try {
        const written =
          this.resourceVersion === undefined
            ? await core.createNamespacedConfigMap({ namespace, body })
            : await core.replaceNamespacedConfigMap({ name: this.name, namespace, body });
        this.resourceVersion = written.metadata?.resourceVersion;
        this.serial += 1;
        return this.serial;
      } catch (error) {
        const status = statusOf(error);
        if (status !== 409 && status !== 404) throw kubernetesError(`writing ConfigMap ${namespace}/${this.name}`, error);
        await this.read().catch(() => undefined);
      }
    }
    throw kubernetesError(`writing ConfigMap ${namespace}/${this.name}`, new Error('it kept changing under us (409 again and again)'));
  }

  private body(state: ClusterAppState, writtenBy: string, serial: number): V1ConfigMap {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        ...(this.resourceVersion === undefined ? {} : { resourceVersion: this.resourceVersion }),
        labels: { [APP_LABEL]: this.app, [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: { [WRITTEN_BY_ANNOTATION]: writtenBy, [SERIAL_ANNOTATION]: String(serial) },
      },
      data: { [STATE_KEY]: JSON.stringify({ format: STATE_FORMAT, ...state }) },
    };
  }

  private parse(text: string | undefined): ClusterAppState {
    const where = `ConfigMap ${this.clients.namespace}/${this.name} key ${STATE_KEY}`;
    let raw: unknown;
    try {
      raw = JSON.parse(text ?? '');
    } catch (error) {
      throw unreadable(where, `it is not JSON (${(error as Error).message})`);
    }
    const format = (raw as { format?: unknown } | null)?.format;
    if (typeof format === 'number' && format > STATE_FORMAT)
      throw unreadable(where, `it was written by a newer cutover (format ${format}; this one reads ${STATE_FORMAT})`, 'upgrade cutover on this machine');
    const parsed = stateShape.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw unreadable(where, `${issue.path.join('.') || 'the document'}: ${issue.message}`);
    }
    if (parsed.data.app !== this.app) throw unreadable(where, `it holds app "${parsed.data.app}", not "${this.app}"`);
    const { format: _, ...state } = parsed.data;
    return state as unknown as ClusterAppState;
  }
}

function unreadable(
  where: string,
  what: string,
  hint = "fix or delete the ConfigMap (kubectl edit / delete); cutover writes it again from this machine's state",
): CutoverError {
  return new CutoverError('CLUSTER_STATE_UNREADABLE', `cannot read the app's state from ${where}: ${what}`, { hint });
}
