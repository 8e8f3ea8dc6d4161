import { InputError } from '../../errors.js';
import { formatDeployReport } from '../format-deploy-report.js';
import { commandContext, type GlobalOptions } from '../context.js';
import { visible } from '../../util/terminal-text.js';

export async function report(app: string, rollout: string | undefined, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const id = rollout === undefined ? undefined : Number(rollout);
  if (id !== undefined && (!Number.isInteger(id) || id < 1))
    throw new InputError('BAD_ARGUMENT', `rollout must be a rollout id, got "${rollout}"`, { hint: `See the rollouts with: cutover history ${app}` });
  const { client } = commandContext(options);
  const { report: found } = await client.report(app, id);
  console.log(options.json ? JSON.stringify(found, null, 2) : visible(formatDeployReport(found)));
}
