/** How long a Lease taken by one cutover holds before another may take the app over. */
export const DEFAULT_LEASE_DURATION_SECONDS = 15;

/** Commands nobody fetched the answer of are dropped after this long. */
export const COMMAND_KEPT_MS = 10 * 60_000;
