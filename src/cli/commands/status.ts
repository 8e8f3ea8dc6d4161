import { isTerminalPhase } from '../../model/rollout.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { table } from '../output.js';
import { appNotFound, InputError } from '../../errors.js';
import { watchApps } from '../watch-apps.js';
import { visible } from '../../util/terminal-text.js';
import { mapStrings } from '../../model/secrets.js';

export async function status(app: string | undefined, options: GlobalOptions & { json?: boolean; watch?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  if (options.watch) {
    if (options.json)
      throw new InputError('BAD_FLAG', '--watch and --json do not go together', {
        hint: 'for a stream of changes as JSON, read GET /v1/events with Accept: text/event-stream',
      });
    if (app !== undefined) await client.app(app);
    process.once('SIGINT', () => process.exit(130));
    await watchApps(client, { ...(app !== undefined ? { apps: [app] } : {}), isTerminal: process.stdout.isTTY === true });
    return;
  }
  const answer = await client.status(app);
  if (app !== undefined && answer.apps.length === 0)
    throw appNotFound(
      app,
      (await client.status()).apps.map((a) => a.name),
    );
  if (options.json) {
    console.log(JSON.stringify(answer, null, 2));
    return;
  }
  // Reasons and gates quote hook output and app log lines: shown, never obeyed by the terminal.
  const report = mapStrings(answer, visible);
  if (report.apps.length === 0) {
    console.log('no apps yet: run cutover deploy');
    return;
  }
  for (const a of report.apps) {
    console.log(`${a.name}  stable revision ${a.revision ?? '-'}`);
    if (a.drivenBy)
      console.log(
        `  driven by another cutover: ${a.drivenBy} (shown as it wrote it to the cluster; promote, pause, resume, abort and rollback from here are sent to it)`,
      );
    if (a.rollout) {
      const r = a.rollout;
      console.log(
        `  rollout ${r.id} (${r.strategy}) ${r.phase}: revision ${r.fromRevision ?? '-'} → ${r.toRevision}, ${r.step}${r.reason ? `\n  reason: ${r.reason}` : ''}`,
      );
      if (r.steps.length) console.log(`  steps: ${r.steps.map((s, i) => (i === r.stepIndex && !isTerminalPhase(r.phase) ? `[${s}]` : s)).join(' → ')}`);
      if (r.gate) console.log(`  gate: ${r.gate}`);
      if (r.isPausedByUser) console.log(`  paused by a person: run cutover resume ${a.name}`);
      for (const run of r.analysis ?? [])
        console.log(
          `  analysis ${run.template} (${run.point}): ${run.state}, ${run.measurements} measurement${run.measurements === 1 ? '' : 's'}${run.last ? `; last: ${run.last}` : ''}`,
        );
      if (r.warm) console.log(`  revision ${r.warm.revision} stays up out of traffic until ${r.warm.until}`);
    }
    if (a.traffic.length) console.log(`  traffic: ${a.traffic.map((t) => `revision ${t.revision} ${t.weight}% (${t.instances})`).join(', ')}`);
    if (a.instances.length) {
      const rows = [
        ['INSTANCE', 'REVISION', 'STATE', 'PID', 'PORT'],
        ...a.instances.map((i) => [i.id, String(i.revision), i.state, String(i.pid ?? '-'), String(i.port)]),
      ];
      console.log(table(rows).replace(/^/gm, '  '));
      for (const i of a.instances) if (i.reason) console.log(`  ${i.id}: ${i.reason}`);
    }
  }
  if (report.frontDoor) console.log(`front door: ${report.frontDoor.unknownHostRequests} request(s) for a host no app serves (404/421)`);
}
