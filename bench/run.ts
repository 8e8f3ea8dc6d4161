/** `npm run bench -- NAME [flags]`: runs one benchmark by name. */
const BENCHMARKS: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  deploys: () => import('./deploys.js'),
  soak: () => import('./soak.js'),
  proxy: () => import('./proxy.js'),
  daemon: () => import('./daemon.js'),
  releases: () => import('./releases.js'),
};

const USAGE = `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [flags]
each benchmark's flags, what it prints and the figures measured so far: docs/benchmarks.md`;

const [name, ...args] = process.argv.slice(2);
if (name === '--help' || name === '-h' || args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
if (!name || !BENCHMARKS[name]) {
  console.error(USAGE);
  process.exit(2);
}
try {
  await (await BENCHMARKS[name]()).run(args);
} catch (error) {
  // A flag the benchmark does not know: say which, not a stack trace.
  if (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS')) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  throw error;
}
