/** `GET /v1/apps/APP/releases` and `cutover releases APP --json`. */
export const RELEASE_USES = ['serving', 'warm', 'kept', 'building', 'failed', 'pruned'] as const;

/**
 * serving: the stable revision's, or the new one of a running rollout; warm: other instances or a
 * rollout may still run it (never pruned); kept: on disk, unused; building: its build runs;
 * failed: its build failed (files removed); pruned: removed beyond `keep`.
 */
export type ReleaseUse = (typeof RELEASE_USES)[number];

export interface ReleaseListing {
  revision: number;
  hash: string;
  /** A directory, a `.tar.gz` file, or `git:REF`. */
  source: string;
  commit: string | null;
  bytes: number;
  /** Bytes written anew by its snapshot (the rest hard-linked from the release before). */
  copiedBytes: number;
  /** Wall-clock ms. */
  createdAt: number;
  buildMs: number | null;
  use: ReleaseUse;
}

export interface ReleasesReport {
  app: string;
  releases: ReleaseListing[];
  /** Disk used by the app's releases, a hard-linked file counted once. */
  diskBytes: number;
}
