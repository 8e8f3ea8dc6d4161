import { Command, CommanderError, Option } from 'commander';
import { CutoverError, DaemonUnreachableError, InputError } from '../errors.js';
import { DEFAULT_CONFIG_FILE, type GlobalOptions } from './context.js';
import { EXIT_BAD_INPUT, EXIT_DAEMON_UNREACHABLE, EXIT_ROLLOUT_FAILED, EXIT_STORE_CORRUPT } from './exit-codes.js';
import { paint } from './output.js';
import { visible } from './terminal-text.js';
import { STRATEGY_NAMES } from '../model/rollout.js';

/**
 * Codes that mean the request itself was wrong or refused, not that a rollout failed. A deploy
 * refused because another rollout of the app runs (ROLLOUT_ALREADY_ACTIVE) is not among them:
 * it exits 1, like a deploy that did not go through, so a CI job that lost the race fails as such.
 */
const BAD_INPUT_CODES = new Set([
  'REVISION_ALREADY_STABLE',
  'BODY_TOO_LARGE',
  'APP_NOT_FOUND',
  'REVISION_NOT_FOUND',
  'NO_EARLIER_REVISION',
  'BAD_REQUEST',
  'DAEMON_ALREADY_RUNNING',
  'ROLLOUT_NOT_FOUND',
  'NOT_FOUND',
  'NO_ACTIVE_ROLLOUT',
  'ROLLOUT_GOING_BACK',
  'NOTHING_TO_PROMOTE',
  'NOT_PAUSED',
]);

function program(): Command {
  const cli = new Command('cutover')
    .description('Ship new versions of web services with zero downtime: rolling, blue-green and canary deploys behind a built-in load balancer.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  cutover up --detach                          start the daemon and deploy cutover.yaml
  cutover deploy                               deploy what changed in cutover.yaml
  cutover deploy web --set web.run.env.VERSION=2
  cutover deploy web --strategy canary         one deploy with another strategy
  cutover deploy --skip-hooks preDeploy        an emergency deploy without the preDeploy hooks
  cutover promote web                          past the current canary step or blue-green gate
  cutover abort web                            all traffic back to the stable revision at once
  cutover status --json                        machine-readable state, for scripts
  cutover status web --watch                   a live view of the rollout (plain lines when not a terminal)
  cutover up --detach --ui                     also serve the dashboard on http://127.0.0.1:7070
  cutover rollback web                         back to the previous revision
  cutover logs web --follow
  cutover reload                               new proxy workers, the old ones drain (no request fails)
  cutover render web > web.yaml                the Kubernetes objects of a kubernetes app
  cutover down                                 stop every app gracefully, then the daemon

Exit codes: 0 done, 1 rolled back or failed (or another rollout of the app runs), 2 bad input or refused,
3 daemon unreachable, 4 the state database is corrupt.`,
    );

  const withGlobals = (command: Command): Command =>
    command
      .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_FILE)
      .option('--data-dir <dir>', 'where the daemon keeps state, logs and its socket (default: .cutover/ beside the config; env CUTOVER_DATA_DIR)');

  withGlobals(cli.command('up'))
    .description('start the daemon (proxy workers + controller) and deploy every app of the config')
    .option('--detach', 'run in the background; return once the apps serve')
    .addOption(new Option('--workers <n>', 'proxy worker processes').default(2).argParser(positiveInt('--workers')))
    .option('--admin <host:port>', 'also serve the admin API on TCP, with the bearer token in DATA_DIR/admin-token (made when absent, mode 0600)')
    .option('--ui [host:port]', 'serve the dashboard (default 127.0.0.1:7070; log in with the token in DATA_DIR/admin-token)')
    .option('--ui-allow-remote', 'let --ui listen on an address that is not loopback')
    .action(async (options) => (await import('./commands/up.js')).up(options));

  withGlobals(cli.command('deploy'))
    .description('deploy the config (again): a new revision for every app whose spec changed, rolled out by its strategy')
    .argument('[apps...]', 'only these apps (default: all)')
    .option('--set <key=value>', 'override a config value for this deploy, e.g. web.run.env.VERSION=2 (repeatable)', collect, [])
    .addOption(
      new Option('--strategy <name>', "this deploy's strategy instead of the config's (its settings from the config, or its defaults)").choices(STRATEGY_NAMES),
    )
    .option(
      '--skip-hooks <point>',
      "do not run this point's hooks in this deploy (preDeploy, preTraffic, postTraffic, onSuccess, onFailure; repeatable; recorded in the history)",
      collect,
      [],
    )
    .option('--detach', 'return once the rollouts started, without waiting (a gate waits for cutover promote either way)')
    .option('--json', 'print the result as JSON')
    .action(async (apps: string[], options) => (await import('./commands/deploy.js')).deploy(apps, options));

  withGlobals(cli.command('promote'))
    .description('pass the current canary step or blue-green gate (a blue-green switch returns once all traffic is on green)')
    .argument('<app>')
    .option('--full', 'skip every step left: the new revision takes all traffic as soon as it is at full size')
    .option('--json', 'print the rollout as JSON')
    .action(async (app: string, options) => (await import('./commands/gates.js')).promote(app, options));

  withGlobals(cli.command('pause'))
    .description('hold the rollout where it is: no step advances until resume or promote')
    .argument('<app>')
    .option('--json', 'print the rollout as JSON')
    .action(async (app: string, options) => (await import('./commands/gates.js')).pause(app, options));

  withGlobals(cli.command('resume'))
    .description('lift a pause (time paused does not count against pauses and deadlines)')
    .argument('<app>')
    .option('--json', 'print the rollout as JSON')
    .action(async (app: string, options) => (await import('./commands/gates.js')).resume(app, options));

  withGlobals(cli.command('abort'))
    .description('send all traffic back to the stable revision at once; the new instances stop after the abort delay')
    .argument('<app>')
    .option('--json', 'print the rollout as JSON')
    .action(async (app: string, options) => (await import('./commands/gates.js')).abort(app, options));

  withGlobals(cli.command('status'))
    .description('apps, their stable revision, the current rollout and instances')
    .argument('[app]', 'only this app')
    .option('--json', 'print the status as JSON (a stable contract)')
    .option(
      '-w, --watch',
      'keep watching: a live view on a terminal (steps, traffic split, rps, errors, p99 per revision, gate), one line per change elsewhere; Ctrl-C stops',
    )
    .action(async (app: string | undefined, options) => (await import('./commands/status.js')).status(app, options));

  withGlobals(cli.command('history'))
    .description('revisions and rollouts of an app')
    .argument('<app>')
    .option('--json', 'print as JSON')
    .action(async (app: string, options) => (await import('./commands/history.js')).history(app, options));

  withGlobals(cli.command('report'))
    .description('print the deploy report of a rollout: requests, errors and latency before, during and after it, and the failed requests it caused')
    .argument('<app>', 'app name')
    .argument('[rollout]', 'rollout id (default: the latest with a report)')
    .option('--json', 'machine-readable output')
    .action(async (app: string, rollout: string | undefined, options) => (await import('./commands/report.js')).report(app, rollout, options));

  withGlobals(cli.command('rollback'))
    .description('turn an active rollout around, or go back to the previous (or a given) revision')
    .argument('<app>')
    .addOption(new Option('--to <revision>', 'the revision to go back to').argParser(positiveInt('--to')))
    .option('--detach', 'return without waiting')
    .option('--json', 'print the result as JSON')
    .action(async (app: string, options) => (await import('./commands/rollback.js')).rollback(app, options));

  withGlobals(cli.command('logs'))
    .description("print an app's instance logs")
    .argument('<app>')
    .addOption(new Option('--revision <n>', 'only instances of this revision').argParser(positiveInt('--revision')))
    .option('-f, --follow', 'keep printing new lines')
    .action(async (app: string, options) => (await import('./commands/logs.js')).logs(app, options));

  withGlobals(cli.command('reload'))
    .description('replace the proxy workers without dropping a connection: new ones start, the old ones drain (also: SIGHUP to the daemon)')
    .action(async (options: GlobalOptions) => (await import('./commands/reload.js')).reload(options));
  withGlobals(cli.command('render'))
    .description('print the Kubernetes objects of a kubernetes app (ReplicaSet, Services, HTTPRoute rules) as YAML, for review and GitOps; needs no daemon')
    .argument('<app>', 'the app')
    .option('--revision <n>', 'the revision number the objects are named and labelled with', '1')
    .action(async (app: string, options) => (await import('./commands/render.js')).render(app, options));

  withGlobals(cli.command('down'))
    .description('stop every app gracefully (drained), then the daemon')
    .action(async (options: GlobalOptions) => (await import('./commands/down.js')).down(options));

  cli
    .command('demo')
    .description('a self-contained tour under steady traffic: rolling, blue-green and canary deploys, a broken deploy rolled back by itself, and a summary')
    .option('--keep', 'keep the demo directory afterwards')
    .action(async (options: { keep?: boolean }) => (await import('./commands/demo.js')).demo(options));

  return cli;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new InputError('BAD_FLAG', `${flag} must be a whole number ≥ 1, got "${value}"`);
    return parsed;
  };
}

/** The one error boundary: every failure becomes a message, a hint and an exit code here. */
export async function main(argv: string[]): Promise<void> {
  // `cutover status | head` closes the pipe early: stop quietly, as other command-line tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  try {
    await program().parseAsync(argv, { from: 'user' });
  } catch (error) {
    process.exitCode = reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
  }
  if (error instanceof CutoverError) {
    console.error(`${paint('red', 'error:')} ${visible(error.message)}`);
    if (error.hint) console.error(`${paint('dim', 'hint:')} ${visible(error.hint)}`);
    if (error instanceof DaemonUnreachableError || error.code === 'DAEMON_STOPPING') return EXIT_DAEMON_UNREACHABLE;
    if (error.code === 'STORE_CORRUPT') return EXIT_STORE_CORRUPT;
    if (error instanceof InputError || BAD_INPUT_CODES.has(error.code)) return EXIT_BAD_INPUT;
    if (error.code === 'INTERNAL') console.error('This is a bug in cutover; please report it with the command you ran.');
    return EXIT_ROLLOUT_FAILED;
  }
  console.error(`${paint('red', 'internal error:')} ${(error as Error)?.stack ?? String(error)}`);
  console.error('This is a bug in cutover; please report it with the command you ran.');
  return EXIT_ROLLOUT_FAILED;
}
