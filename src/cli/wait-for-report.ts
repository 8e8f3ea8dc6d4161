import { setTimeout as sleep } from 'node:timers/promises';
import type { CutoverClient } from '../api/client.js';
import { REPORT_AFTER_MS, type DeployReport } from '../protocol/deploy-report.js';

/** The report is written a little after the rollout ended (the "after" phase); null if it does not come. */
export async function waitForReport(client: CutoverClient, rolloutId: number): Promise<DeployReport | null> {
  const deadline = performance.now() + REPORT_AFTER_MS + 10_000;
  while (performance.now() < deadline) {
    const rollout = await client.rollout(rolloutId);
    if (rollout.report !== null) return rollout.report as DeployReport;
    await sleep(200);
  }
  return null;
}
