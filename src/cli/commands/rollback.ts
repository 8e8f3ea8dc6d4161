import { commandContext, type GlobalOptions } from '../context.js';
import { EXIT_OK, EXIT_ROLLOUT_FAILED } from '../exit-codes.js';
import { followRollouts } from '../follow-rollouts.js';

export async function rollback(app: string, options: GlobalOptions & { to?: number; detach?: boolean; json?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  const { rollout } = await client.rollback(app, options.to);
  if (!options.json)
    console.log(`${app}: rolling back to revision ${rollout.direction === 'back' ? rollout.fromRevision : rollout.toRevision} (rollout ${rollout.id})`);
  if (options.detach) {
    if (options.json) console.log(JSON.stringify({ rollout }, null, 2));
    return;
  }
  const [final] = await followRollouts(client, [rollout.id], { isQuiet: options.json });
  if (options.json) console.log(JSON.stringify({ rollout: final }, null, 2));
  else console.log(`${app}: rollout ${final!.id} ${final!.phase}`);
  process.exitCode = final!.phase === 'rolled-back' ? EXIT_OK : EXIT_ROLLOUT_FAILED;
}
