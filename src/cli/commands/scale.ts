import { setTimeout as sleep } from 'node:timers/promises';
import { CutoverError } from '../../errors.js';
import type { AppStatus } from '../../protocol/status.js';
import { commandContext, type GlobalOptions } from '../context.js';

/** How long `cutover scale` waits for the count to be reached before it gives up (the change itself stays). */
export const SCALE_WAIT_MS = 120_000;
const POLL_MS = 250;

/** `cutover scale APP N`: the stable revision's instance count, without a new revision. */
export async function scale(app: string, replicas: number, options: GlobalOptions & { detach?: boolean; json?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  const result = await client.scale(app, replicas);
  const revision = result.revision ?? '-';
  if (!options.json)
    console.log(
      result.fromReplicas === replicas
        ? `${app}: already ${replicas} instance${replicas === 1 ? '' : 's'} of revision ${revision}`
        : `${app}: scaling revision ${revision} from ${result.fromReplicas} to ${replicas} instances (no new revision)`,
    );
  if (!options.detach && result.revision !== null) {
    const deadline = performance.now() + SCALE_WAIT_MS;
    let current = await client.app(app);
    while (!isAtSize(current, result.revision, replicas)) {
      if (performance.now() > deadline)
        throw new CutoverError('SCALE_NOT_REACHED', `${app} did not reach ${replicas} ready instances in ${SCALE_WAIT_MS / 1000}s`, {
          hint: `The count stays ${replicas}; see why with: cutover status ${app}`,
        });
      await sleep(POLL_MS);
      current = await client.app(app);
    }
    if (!options.json) console.log(`${app}: ${replicas} instance${replicas === 1 ? '' : 's'} of revision ${revision} ready`);
  }
  if (options.json) console.log(JSON.stringify(result, null, 2));
}

/** Done: exactly `replicas` ready instances of the revision, and nothing else starting or draining. */
function isAtSize(app: AppStatus, revision: number, replicas: number): boolean {
  const live = app.instances.filter((i) => i.state === 'starting' || i.state === 'ready' || i.state === 'draining');
  return live.length === replicas && live.every((i) => i.state === 'ready' && i.revision === revision);
}
