import type { RolloutRecord } from '../../model/records.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { visible } from '../../util/terminal-text.js';
import { waitForPromote } from '../wait-for-promote.js';

type GateOptions = GlobalOptions & { json?: boolean };

/**
 * `cutover promote APP [--full]`: past the current step or gate, or all the way; returns once
 * the promote is applied (a canary's new weight as a blue-green switch), or at once with `--no-wait`.
 */
export async function promote(app: string, options: GateOptions & { full?: boolean; wait?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  const { rollout: requested } = await client.promote(app, { full: options.full, wait: options.wait });
  const rollout =
    options.wait === false ? requested : await waitForPromote(client, requested, (step) => !options.json && console.log(visible(`${app}: ${step}`)));
  const summary =
    rollout.phase === 'promoted'
      ? 'promoted: the new revision serves all traffic'
      : options.wait === false
        ? `promote requested; now: ${rollout.step}`
        : `promote applied; now: ${rollout.step}`;
  report(rollout, options, summary);
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
