import type { RolloutRecord } from '../../model/records.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { visible } from '../../util/terminal-text.js';

type GateOptions = GlobalOptions & { json?: boolean };

/** `cutover promote APP [--full]`: past the current step or gate, or all the way. */
export async function promote(app: string, options: GateOptions & { full?: boolean }): Promise<void> {
  const { rollout } = await commandContext(options).client.promote(app, { full: options.full });
  report(rollout, options, rollout.phase === 'promoted' ? 'promoted: the new revision serves all traffic' : `promote requested; now: ${rollout.step}`);
}

export async function pause(app: string, options: GateOptions): Promise<void> {
  const { rollout } = await commandContext(options).client.pause(app);
  report(rollout, options, `paused; resume with: cutover resume ${app}`);
}

export async function resume(app: string, options: GateOptions): Promise<void> {
  const { rollout } = await commandContext(options).client.resume(app);
  report(rollout, options, rollout.gate ? `resumed; it waits at a gate: ${rollout.gate}` : 'resumed');
}

/** `cutover abort APP`: returns once the proxy sends all traffic to the stable revision. */
export async function abort(app: string, options: GateOptions): Promise<void> {
  const { rollout } = await commandContext(options).client.abort(app);
  report(rollout, options, `aborted: revision ${rollout.fromRevision ?? '-'} serves all traffic`);
}

function report(rollout: RolloutRecord, options: GateOptions, summary: string): void {
  if (options.json) console.log(JSON.stringify({ rollout }, null, 2));
  else console.log(visible(`${rollout.app}: rollout ${rollout.id} ${summary}`));
}
