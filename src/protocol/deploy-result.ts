export interface DeployResult {
  app: string;
  revision: number;
  /** Null when nothing changed. */
  rolloutId: number | null;
  isUnchanged: boolean;
  /** An unchanged spec with another `replicas`: the app was scaled, without a new revision. */
  scaled?: { from: number; to: number };
  /** `--set` overrides the stable revision was deployed with that this deploy does not set: the file's values apply again. */
  droppedOverrides?: string[];
}
