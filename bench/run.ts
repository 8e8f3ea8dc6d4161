/** `npm run bench -- NAME [flags]`: runs one benchmark by name. */
const BENCHMARKS: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  deploys: () => import('./deploys.js'),
  soak: () => import('./soak.js'),
  proxy: () => import('./proxy.js'),
  daemon: () => import('./daemon.js'),
  releases: () => import('./releases.js'),
};

const [name, ...args] = process.argv.slice(2);
if (!name || !BENCHMARKS[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [flags]`);
  process.exit(2);
}
await (await BENCHMARKS[name]()).run(args);
