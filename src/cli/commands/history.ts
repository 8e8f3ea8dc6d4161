import { commandContext, type GlobalOptions } from '../context.js';
import { table } from '../output.js';
import { visible } from '../../util/terminal-text.js';
import { mapStrings } from '../../model/secrets.js';

export async function history(app: string, options: GlobalOptions & { json?: boolean }): Promise<void> {
  const { client } = commandContext(options);
  const answer = await client.history(app);
  if (options.json) {
    console.log(JSON.stringify(answer, null, 2));
    return;
  }
  // Env values and reasons may hold anything: shown, never obeyed by the terminal.
  const report = mapStrings(answer, visible);
  console.log(`${app}: stable revision ${report.stableRevision ?? '-'}`);
  // Replicas are the app's: a scale makes no revision, so it is listed here beside them.
  if (report.replicas != null) console.log(`${report.replicas} instance${report.replicas === 1 ? '' : 's'} (the app's count, not a revision's)`);
  console.log('');
  // Container apps: the tag as written and the image ID the revision runs (a moved tag changes neither).
  const hasImages = report.revisions.some((r) => r.image);
  // `--set` overrides a revision was deployed with (older daemons send none).
  const hasOverrides = report.revisions.some((r) => r.overrides?.length);
  const revisions = [
    ['REVISION', 'CREATED', ...(hasImages ? ['IMAGE', 'IMAGE ID'] : []), 'RELEASE', ...(hasOverrides ? ['SET'] : []), 'ENV'],
    ...report.revisions.map((r) => [
      String(r.number),
      new Date(r.createdAt).toISOString(),
      ...(hasImages ? [r.image?.tag ?? '-', r.image?.id ?? '-'] : []),
      r.release ? `${r.release.hash.slice(0, 12)} ${r.release.commit ? `${r.release.source} (${r.release.commit.slice(0, 12)})` : r.release.source}` : '-',
      ...(hasOverrides ? [r.overrides?.length ? r.overrides.join(' ') : '-'] : []),
      Object.entries(r.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]),
  ];
  console.log(table(revisions));
  console.log('');
  const rollouts = [
    ['ROLLOUT', 'FROM', 'TO', 'PHASE', 'STARTED', 'TOOK', 'REASON'],
    ...report.rollouts.map((r) => [
      String(r.id),
      String(r.fromRevision ?? '-'),
      String(r.toRevision),
      r.phase,
      new Date(r.startedAt).toISOString(),
      r.endedAt ? `${((r.endedAt - r.startedAt) / 1000).toFixed(1)}s` : '-',
      [
        r.trigger === 'restart' ? '(restart: new processes, same revision)' : '',
        r.reason ?? '',
        r.skippedHooks?.length ? `(hooks skipped: ${r.skippedHooks.join(', ')})` : '',
      ]
        .filter(Boolean)
        .join(' '),
    ]),
  ];
  console.log(table(rollouts));
  if (report.scales?.length) {
    console.log('');
    console.log(table([['SCALED', 'WHAT'], ...report.scales.map((e) => [new Date(e.at).toISOString(), e.message])]));
  }
}
