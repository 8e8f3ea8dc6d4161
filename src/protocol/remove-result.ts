/** The answer to `cutover remove` (POST /v1/apps/APP/remove), once the app's instances stopped. */
export interface RemoveResult {
  app: string;
  /** The revision that was stable, or null when none was. */
  revision: number | null;
  /** Instances that were running and are stopped now. */
  stoppedInstances: number;
  /** Revisions kept for `history` and `report`. */
  keptRevisions: number;
}
