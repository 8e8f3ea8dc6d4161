import { checkStore } from '../store/check-store.js';
import type { DataDirLayout } from './data-dir.js';

/**
 * What `cutover up` checks before it starts anything, so that the CLI needs no store of its
 * own: a corrupt state database stops it here, with its own exit code (STORE_CORRUPT, 4).
 */
export function checkStateBeforeStart(layout: DataDirLayout): void {
  checkStore(layout.database);
}
