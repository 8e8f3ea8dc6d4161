import cluster from 'node:cluster';

/**
 * Node flags of the daemon's own processes, chosen by measurement (`npm run bench -- daemon`,
 * docs/benchmarks.md). Every Node process costs about 40 MB before it loads anything; these keep
 * the rest small where speed does not matter.
 *
 * The primary holds sockets and passes messages: without the JIT (`--jitless`; `--no-expose-wasm`
 * keeps V8 from warning that this turns WebAssembly off) and with a small young generation it
 * holds about 6 MB less, and its work (a few IPC messages a second) is mostly native code anyway. The controller keeps the JIT (its passes and checks run in
 * JavaScript) but gets a small young generation (about 9 MB less at rest) and no optimizing
 * compiler (`--no-opt`: 4-5 MB less, the pages of TurboFan's code are never touched; its idle
 * CPU at 1-40 apps measured the same), nor the baseline compiler (`--no-sparkplug`: 2 MB less,
 * idle CPU at 40 apps 1.1-1.5 % of a core with or without it). It cannot go `--jitless`: `fetch` (HTTP hooks, the
 * Prometheus provider) needs WebAssembly. Proxy workers run with Node's defaults: their young
 * generation and optimized code are their throughput.
 */
export const PRIMARY_NODE_FLAGS: readonly string[] = ['--jitless', '--no-expose-wasm', '--max-semi-space-size=1'];
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt', '--no-sparkplug'];

/**
 * In the primary, before it starts a child: the flags of its proxy workers (cluster's settings)
 * and of its controller (`fork`'s default, `process.execArgv`) are what the primary was started
 * with (e.g. `--inspect`) less the primary's own flags, plus the controller's.
 */
export function setChildNodeFlags(): void {
  const inherited = process.execArgv.filter((flag) => !PRIMARY_NODE_FLAGS.includes(flag));
  // Merged into the settings the primary sets up; calling setupPrimary here would fix cluster's
  // scheduling policy before the primary chooses its own.
  cluster.settings.execArgv = inherited;
  process.execArgv = [...inherited, ...CONTROLLER_NODE_FLAGS];
}
