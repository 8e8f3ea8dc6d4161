import { Command, CommanderError, Option } from 'commander';
import { CutoverError, InputError } from '../errors.js';
import { errorCodeInfo } from '../error-catalog.js';
import { DEFAULT_CONFIG_FILE, type GlobalOptions } from './context.js';
import { EXIT_BAD_INPUT, EXIT_ROLLOUT_FAILED } from '../exit-codes.js';
import { paint } from './output.js';
import { visible } from '../util/terminal-text.js';
import { STRATEGY_NAMES } from '../model/rollout.js';
import { DEFAULT_REHEARSE_CLIENTS, DEFAULT_REHEARSE_DEPLOYS } from './rehearse/rehearse-defaults.js';

/** The `cutover` command with every subcommand and flag (exported for tests that check documented command lines). */
export function program(): Command {
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
  cutover deploy web --restart                 new processes for the running revision (a rotated secret, a leak)
  cutover deploy web --from build/web.tgz      ship a release built elsewhere (or --from git:v1.2)
  cutover promote web                          past the current canary step or blue-green gate
  cutover abort web                            all traffic back to the stable revision at once
  cutover status --json                        machine-readable state, for scripts
  cutover status web --watch                   a live view of the rollout (plain lines when not a terminal)
  cutover up --detach --ui                     also serve the dashboard on http://127.0.0.1:7070
  cutover rollback web                         back to the previous revision
  cutover scale web 5                          5 instances of the stable revision, no new revision
  cutover remove old-api --yes                 out of traffic, drained, stopped; its history stays
  cutover logs web --follow
  cutover certs                                the ACME certificates: state, expiry, last error
  cutover reload                               new proxy workers, the old ones drain (no request fails)
  cutover restart --ui                         a new daemon (upgraded cutover, new settings) takes over: no request fails
  cutover systemd > cutover.service            systemd units (socket activation); see docs/operations.md
  cutover render web > web.yaml                the Kubernetes objects of a kubernetes app
  cutover rehearse --junit rehearsal.xml       deploys rehearsed on a daemon of their own, for CI
  cutover down                                 stop every app gracefully, then the daemon
  cutover --host ssh://deploy@web1/srv/shop deploy --json
                                               deploy this config to the daemon on web1, over ssh

Exit codes: 0 done, 1 rolled back or failed (or another rollout of the app runs), 2 bad input or refused,
3 daemon unreachable, 4 the state database is corrupt.`,
    );

  const HOST_HELP =
    'the daemon on another machine, over the system ssh client: ssh://USER@HOST[:PORT][/DIR] (DIR: where its config lives there; env CUTOVER_HOST)';
  cli.option('--host <url>', HOST_HELP);
  // `cutover --host URL COMMAND`: the command sees it as its own --host.
  cli.hook('preAction', (root, action) => {
    const host = root.opts<{ host?: string }>().host;
    if (host !== undefined && action !== root && action.opts<{ host?: string }>().host === undefined) action.setOptionValue('host', host);
  });

  const withGlobals = (command: Command): Command =>
    command
      .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_FILE)
      .option('--data-dir <dir>', 'where the daemon keeps state, logs and its socket (default: .cutover/ beside the config; env CUTOVER_DATA_DIR)')
      .option('--host <url>', HOST_HELP);

  withGlobals(cli.command('up'))
    .description('start the daemon (proxy workers + controller) and deploy every app of the config')
    .option('--detach', 'run in the background; return once the apps serve')
    .addOption(new Option('--workers <n>', 'proxy worker processes (how many: docs/benchmarks.md)').default(1).argParser(positiveInt('--workers')))
    .option('--admin <host:port>', 'also serve the admin API on TCP, with the bearer token in DATA_DIR/admin-token (made when absent, mode 0600)')
    .option('--ui [host:port]', 'serve the dashboard (default 127.0.0.1:7070; log in with the token in DATA_DIR/admin-token)')
    .option('--ui-allow-remote', 'let --ui listen on an address that is not loopback')
    .option('--set <key=value>', 'override a config value for the deploy up makes, as deploy --set does (repeatable)', collect, [])
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
    .option('--from <source>', "take the release from a directory, a .tar.gz/.tgz file, or git:REF of the config's repository instead of release.from")
    .option('--detach', 'return once the rollouts started, without waiting (a gate waits for cutover promote either way)')
    .option('--prune', 'also remove apps that run but are no longer in the config (as cutover remove does); without it they are named and left')
    .option('--restart', "roll the stable revision's instances onto new processes through the app's strategy (same revision, same gates, hooks and report)")
    .option('--json', 'print the result as JSON')
    .action(async (apps: string[], options) => (await import('./commands/deploy.js')).deploy(apps, options));

  withGlobals(cli.command('promote'))
    .description('pass the current canary step or blue-green gate; returns once it is applied (the canary at its next weight, all traffic on green)')
    .argument('<app>')
    .option('--full', 'skip every step left: the new revision takes all traffic as soon as it is at full size')
    .option('--no-wait', 'return once the promote is recorded, without waiting until it is applied')
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

  withGlobals(cli.command('scale'))
    .description("run N instances of the app's stable revision, without a new revision: new ones start and take traffic, extra ones drain and stop")
    .argument('<app>')
    .argument('<replicas>', 'the number of instances', positiveInt('replicas'))
    .option('--detach', 'return without waiting for the new count to be ready')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Replicas are the app's, not a revision's: scaling makes no new revision, and a deploy of an
unchanged spec with another replicas: in the config scales the same way. A deploy sets the count
from the config again. Refused (exit 1) while a rollout of the app runs.`,
    )
    .action(async (app: string, replicas: number, options) => (await import('./commands/scale.js')).scale(app, replicas, options));

  withGlobals(cli.command('remove'))
    .description('take an app out of traffic, drain and stop its instances, and drop it from status (its history and reports stay)')
    .argument('<app>')
    .option('-y, --yes', 'remove without asking (needed when not on a terminal)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Rule 2 holds: the app leaves the traffic plan first, its instances drain, then stop. Its
revisions, rollouts and reports stay: cutover history APP and cutover report APP still answer,
and a later deploy of the app starts it again as a first deploy. Remove it from cutover.yaml
too, or the next cutover up brings it back. Refused (exit 1) while a rollout of the app runs;
exit 2 for an unknown app, or without --yes when there is no terminal to ask on.`,
    )
    .action(async (app: string, options) => (await import('./commands/remove.js')).remove(app, options));

  withGlobals(cli.command('history'))
    .description('revisions and rollouts of an app')
    .argument('<app>')
    .option('--json', 'print as JSON')
    .action(async (app: string, options) => (await import('./commands/history.js')).history(app, options));

  withGlobals(cli.command('certs'))
    .description('list the ACME certificates: host, state, issuer, expiry, next attempt and last error (read from the data dir; works with the daemon down)')
    .option('--json', 'print as JSON')
    .action(async (options) => (await import('./commands/certs.js')).certs(options));
  withGlobals(cli.command('releases'))
    .description("an app's releases: revision, hash, source, size, build time, serving, warm, kept or pruned, and the disk they use")
    .argument('<app>')
    .option('--json', 'print as JSON')
    .action(async (app: string, options) => (await import('./commands/releases.js')).releases(app, options));

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
    .description("print an app's instance logs: the live instances' lines merged in time order, each with its time and instance (works with the daemon down)")
    .argument('<app>')
    .option('-n, --tail <n>', 'the last N lines (default 200; 0 with --follow: only new ones)')
    .option('--since <when>', 'only lines since a duration ago (10m, 1h) or a time (2026-12-06T10:00:00Z)')
    .addOption(new Option('--revision <n>', 'only instances of this revision').argParser(positiveInt('--revision')))
    .option('--all', 'ended instances too (as long as their records are kept)')
    .option('-f, --follow', 'keep printing new lines')
    .option('--json', 'one JSON object per line: time, instance, revision, line')
    .action(async (app: string, options) => (await import('./commands/logs.js')).logs(app, options));

  withGlobals(cli.command('reload'))
    .description('replace the proxy workers without dropping a connection: new ones start, the old ones drain (also: SIGHUP to the daemon)')
    .action(async (options: GlobalOptions) => (await import('./commands/reload.js')).reload(options));
  withGlobals(cli.command('restart'))
    .description('replace the daemon (primary, proxy workers, controller) from the installed cutover, sockets handed over, instances adopted: no request fails')
    .option('--detach', 'return once the restart has begun')
    .addOption(new Option('--workers <n>', 'proxy worker processes (default: as now)').argParser(positiveInt('--workers')))
    .option('--admin <host:port>', 'also serve the admin API on TCP (default: as now)')
    .option('--no-admin', 'stop serving the admin API on TCP (the unix socket stays)')
    .option('--ui [host:port]', 'serve the dashboard (default 127.0.0.1:7070; default: as now)')
    .option('--no-ui', 'stop serving the dashboard')
    .option('--ui-allow-remote', 'let --ui listen on an address that is not loopback')
    .addHelpText('after', '\nA flag not given keeps what the running daemon has; --no-admin and --no-ui turn those off.')
    .action(async (options) => (await import('./commands/restart.js')).restart(options));
  withGlobals(cli.command('systemd'))
    .description('print a cutover.service and a cutover.socket for this config and data dir (socket activation, restart on failure)')
    .option('--user', 'units for a user service manager (systemctl --user)')
    .action(async (options) => (await import('./commands/systemd.js')).systemd(options));
  withGlobals(cli.command('render'))
    .description('print the Kubernetes objects of a kubernetes app (ReplicaSet, Services, HTTPRoute rules) as YAML, for review and GitOps; needs no daemon')
    .argument('<app>', 'the app')
    .option('--revision <n>', 'the revision number the objects are named and labelled with', '1')
    .action(async (app: string, options) => (await import('./commands/render.js')).render(app, options));

  withGlobals(cli.command('down'))
    .description('stop every app gracefully (drained), then the daemon')
    .action(async (options: GlobalOptions) => (await import('./commands/down.js')).down(options));

  cli
    .command('rehearse')
    .description(
      "rehearse deploys on a daemon of its own: the config's apps on free loopback ports under keep-alive load, N deploys of new revisions (gates promoted), then a broken revision that must roll back; exit 0 only when no request failed and every deploy ended as expected",
    )
    .argument('[apps...]', 'only these apps (default: all)')
    .option('-c, --config <file>', 'the config file', DEFAULT_CONFIG_FILE)
    .addOption(
      new Option('--deploys <n>', 'deploys of a new revision per app, before the broken one')
        .default(DEFAULT_REHEARSE_DEPLOYS)
        .argParser(positiveInt('--deploys')),
    )
    .addOption(
      new Option('--clients <n>', 'keep-alive clients per app, each sending one request after another')
        .default(DEFAULT_REHEARSE_CLIENTS)
        .argParser(positiveInt('--clients')),
    )
    .addOption(new Option('--strategy <name>', "every deploy's strategy instead of each app's").choices(STRATEGY_NAMES))
    .option('--junit <file>', 'also write the result as JUnit XML, one test case per deploy (for Azure DevOps, GitHub, GitLab)')
    .option('--json', 'print the whole result as one JSON document (progress goes to stderr)')
    .addHelpText(
      'after',
      `
Nothing of a running daemon is touched: the rehearsal has its own daemon, data dir and ports,
in a private scratch dir removed afterwards. Each client sends the config's rehearse.requests
in turn (default: GET /); a request fails when it gets no answer or a 5xx. Each deploy changes
CUTOVER_REHEARSAL in run.env; the broken revision runs a process whose health check never passes.

Examples:
  cutover rehearse                                  every app, 5 deploys each and a broken one
  cutover rehearse web --deploys 2 --strategy canary
  cutover rehearse --junit rehearsal.xml            for the test results tab of a CI pipeline
  cutover rehearse --json > rehearsal.json

Exit codes: 0 passed, 1 a request failed or a deploy did not end as expected, 2 bad input.`,
    )
    .action(async (apps: string[], options) => (await import('./commands/rehearse.js')).rehearse(apps, options));

  withGlobals(cli.command('dial-stdio'))
    .description("the server's side of --host: bridges stdin and stdout to the daemon's admin socket (run by ssh, not by people)")
    .option('--dir <dir>', 'the config directory (the /DIR of --host)')
    .action(async (options) => (await import('./commands/dial-stdio.js')).dialStdio(options));

  withGlobals(cli.command('receive-upload'))
    .description("the server's side of an upload over --host: a tar stream on stdin into a new private directory under the data dir; prints its path as JSON")
    .option('--dir <dir>', 'the config directory (the /DIR of --host)')
    .action(async (options) => (await import('./commands/receive-upload.js')).receiveUpload(options));

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
    if (error.code === 'INTERNAL') console.error('This is a bug in cutover; please report it with the command you ran.');
    // The catalog holds every code's exit; InputError takes only codes that exit 2, so no class check is needed.
    return errorCodeInfo(error.code).exit;
  }
  console.error(`${paint('red', 'internal error:')} ${(error as Error)?.stack ?? String(error)}`);
  console.error('This is a bug in cutover; please report it with the command you ran.');
  return EXIT_ROLLOUT_FAILED;
}
