import { commandContext, type GlobalOptions } from '../context.js';
import { table } from '../output.js';
import { visible } from '../../util/terminal-text.js';

/** `cutover releases APP [--json]`: the app's releases, newest first, and the disk they use. */
export async function releases(app: string, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  const report = await client.releases(app);
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  if (report.releases.length === 0) {
    console.log(`${app}: no releases (the app has no release: in cutover.yaml, or was never deployed with one)`);
    return;
  }
  const rows = [
    ['REVISION', 'HASH', 'SOURCE', 'SIZE', 'NEW', 'CREATED', 'BUILD', 'USE'],
    ...report.releases.map((r) => [
      String(r.revision),
      r.hash.slice(0, 12),
      // A source path or ref came from a person or a CI job: shown, never obeyed by the terminal.
      visible(r.commit ? `${r.source} (${r.commit.slice(0, 12)})` : r.source),
      megabytes(r.bytes),
      megabytes(r.copiedBytes),
      new Date(r.createdAt).toISOString(),
      r.buildMs === null ? '-' : `${(r.buildMs / 1000).toFixed(1)}s`,
      r.use,
    ]),
  ];
  console.log(table(rows));
  console.log(`\n${megabytes(report.diskBytes)} on disk (a file shared by several releases counted once)`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
