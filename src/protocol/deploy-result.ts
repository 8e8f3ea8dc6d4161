export interface DeployResult {
  app: string;
  revision: number;
  /** Null when nothing changed. */
  rolloutId: number | null;
  isUnchanged: boolean;
}
