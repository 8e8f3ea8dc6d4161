import readline from 'node:readline/promises';
import { InputError } from '../../errors.js';
import { commandContext, type GlobalOptions } from '../context.js';

export interface RemoveOptions extends GlobalOptions {
  yes?: boolean;
  json?: boolean;
}

/** `cutover remove APP`: out of traffic, drained, stopped, gone from status; history and reports stay. */
export async function remove(app: string, options: RemoveOptions): Promise<void> {
  const { client } = commandContext(options);
  // An unknown app is exit 2 before anything is asked.
  const current = await client.app(app);
  if (!options.yes) {
    const live = current.instances.filter((i) => i.state !== 'stopped' && i.state !== 'failed').length;
    const question = `Remove ${app}? Its ${live} instance${live === 1 ? '' : 's'} leave traffic and stop; its history is kept. [y/N] `;
    if (!(await confirm(question))) {
      console.log(`${app}: not removed`);
      return;
    }
  }
  if (!options.json) console.log(`${app}: taking it out of traffic, draining and stopping its instances`);
  const result = await client.remove(app);
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else
    console.log(
      `${app}: removed; ${result.stoppedInstances} instance${result.stoppedInstances === 1 ? '' : 's'} stopped, ` +
        `${result.keptRevisions} revision${result.keptRevisions === 1 ? '' : 's'} kept (cutover history ${app})`,
    );
}

/** Asks on the terminal; without one there is nobody to ask, and nothing is removed unasked. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw new InputError('CONFIRMATION_REQUIRED', 'cutover remove asks for confirmation, and there is no terminal to ask on', {
      hint: 'Add --yes to remove without asking.',
    });
  const prompt = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}
