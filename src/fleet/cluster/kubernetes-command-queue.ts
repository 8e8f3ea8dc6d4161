import { randomBytes } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { z } from 'zod';
import { APP_LABEL, kubernetesError, MANAGED_BY, MANAGED_BY_LABEL, MERGE_PATCH, statusOf, type KubeClients } from '../../runtime/kubernetes/kube-clients.js';

export const COMMAND_VERBS = ['promote', 'pause', 'resume', 'abort', 'rollback'] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];

/** A command for an app, sent by a cutover that does not hold its Lease to the one that does. */
export interface ClusterCommand {
  verb: CommandVerb;
  /** `promote --full`. */
  isFull?: boolean;
  /** `rollback --to N`. */
  toRevision?: number;
}

/** How a command ended on the Lease holder: `OK`, or the code of the error it raised. */
export interface CommandOutcome {
  state: 'done';
  code: string;
  message: string;
  hint?: string;
}

/** What the Lease holder answered: `taken` while it runs the command (at most once), then its outcome. */
export type CommandAnswer = { state: 'taken' } | CommandOutcome;

export interface QueuedCommand {
  id: string;
  command: ClusterCommand;
  /** Who sent it (HOST:DATA-DIR) and when (wall-clock ms). */
  by: string;
  at: number;
  answer: CommandAnswer | null;
}

const entryShape = z.object({
  command: z.object({ verb: z.enum(COMMAND_VERBS), isFull: z.boolean().optional(), toRevision: z.number().int().positive().optional() }),
  by: z.string(),
  at: z.number(),
  answer: z
    .union([
      z.object({ state: z.literal('taken') }),
      z.object({ state: z.literal('done'), code: z.string(), message: z.string(), hint: z.string().optional() }),
    ])
    .nullable(),
});

/**
 * A ConfigMap per app (`cutover-web-commands`) through which a cutover that does not drive an
 * app asks the one holding its Lease to promote, pause, resume, abort or roll back. One key per
 * command; every write is a merge patch of that key alone, so senders and the holder never
 * overwrite each other. The holder marks a command `taken` before it runs it and `done` with the
 * outcome after, so a holder that dies in between never runs it twice.
 *
 * @example
 * const queue = new KubernetesCommandQueue(clients, 'web');
 * const id = await queue.send({ verb: 'promote' }, 'laptop:/home/me/.cutover');
 * const answer = await queue.answerOf(id); // null until the holder takes it
 */
export class KubernetesCommandQueue {
  readonly name: string;

  constructor(
    private readonly clients: KubeClients,
    private readonly app: string,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `cutover-${app}-commands`;
  }

  async send(command: ClusterCommand, by: string): Promise<string> {
    const id = `${this.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    await this.patch({ [id]: JSON.stringify({ command, by, at: this.now(), answer: null }) }, true);
    return id;
  }

  async answerOf(id: string): Promise<CommandAnswer | null> {
    return (await this.list()).find((c) => c.id === id)?.answer ?? null;
  }

  async answer(queued: QueuedCommand, answer: CommandAnswer): Promise<void> {
    await this.patch({ [queued.id]: JSON.stringify({ command: queued.command, by: queued.by, at: queued.at, answer }) }, false);
  }

  /** Removes commands: one whose answer was read, or those older than COMMAND_KEPT_MS (cluster-timing.ts). */
  async forget(ids: readonly string[]): Promise<void> {
    if (ids.length) await this.patch(Object.fromEntries(ids.map((id) => [id, null])), false);
  }

  /** Every command on record, oldest first (answered or not); entries that are not commands are skipped. */
  async list(): Promise<QueuedCommand[]> {
    const { core, namespace } = this.clients;
    let map: V1ConfigMap;
    try {
      map = await core.readNamespacedConfigMap({ name: this.name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw kubernetesError(`reading ConfigMap ${namespace}/${this.name}`, error);
    }
    const commands: QueuedCommand[] = [];
    for (const [id, text] of Object.entries(map.data ?? {})) {
      let parsed;
      try {
        parsed = entryShape.safeParse(JSON.parse(text));
      } catch {
        continue;
      }
      if (parsed.success) commands.push({ id, ...parsed.data });
    }
    return commands.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  }

  private async patch(data: Record<string, string | null>, mayCreate: boolean): Promise<void> {
    const { core, namespace } = this.clients;
    try {
      await core.patchNamespacedConfigMap({ name: this.name, namespace, body: { data } }, MERGE_PATCH);
      return;
    } catch (error) {
      if (statusOf(error) !== 404 || !mayCreate) throw kubernetesError(`writing ConfigMap ${namespace}/${this.name}`, error);
    }
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: this.name, labels: { [APP_LABEL]: this.app, [MANAGED_BY_LABEL]: MANAGED_BY } },
      data: data as Record<string, string>,
    };
    try {
      await core.createNamespacedConfigMap({ namespace, body });
    } catch (error) {
      // Created by another sender meanwhile: add ours to it.
      if (statusOf(error) !== 409) throw kubernetesError(`creating ConfigMap ${namespace}/${this.name}`, error);
      await core.patchNamespacedConfigMap({ name: this.name, namespace, body: { data } }, MERGE_PATCH).catch((retry: unknown) => {
        throw kubernetesError(`writing ConfigMap ${namespace}/${this.name}`, retry);
      });
    }
  }
}
