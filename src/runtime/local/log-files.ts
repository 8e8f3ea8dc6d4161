import fs from 'node:fs';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
const CHECK_INTERVAL_MS = 2_000;

/**
 * Keeps instance log files under a size cap. Instances hold the file open in append mode, so
 * the file is copied to `.1` and truncated in place: the writer's next append lands at offset 0.
 */
export class LogFiles {
  private readonly paths = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly maxBytes = DEFAULT_LOG_MAX_BYTES) {}

  watch(path: string): void {
    this.paths.add(path);
    if (!this.timer) {
      this.timer = setInterval(() => this.enforceCaps(), CHECK_INTERVAL_MS);
      this.timer.unref();
    }
  }

  unwatch(path: string): void {
    this.paths.delete(path);
  }

  enforceCaps(): void {
    for (const path of this.paths) {
      try {
        if (fs.statSync(path).size <= this.maxBytes) continue;
        fs.copyFileSync(path, `${path}.1`);
        fs.truncateSync(path, 0);
      } catch {
        // A log that vanished or cannot be read is not worth failing an instance for.
      }
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
