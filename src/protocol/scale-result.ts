/** The answer to `cutover scale` (POST /v1/apps/APP/scale). */
export interface ScaleResult {
  app: string;
  /** The stable revision whose instances are added or stopped; null before a first deploy went through. */
  revision: number | null;
  /** The count before; equal to `replicas` when nothing changed. */
  fromReplicas: number;
  replicas: number;
}
