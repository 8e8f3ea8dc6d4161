import { createRequire } from 'node:module';
import type { Dispatcher, Pool } from 'undici';

/** What the strict lane and the mirror use of an upstream's connection pool. */
export interface UpstreamPool {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * An undici pool made on its first request. Most requests of a plain HTTP setup take the fast
 * lane and never reach undici: a proxy worker loads it (about 20 MB, 0.1 s here) only when a
 * request needs the strict lane or a mirror, at that first request. undici is CommonJS, so it
 * loads synchronously there. A pool closed before it was made is made closed: a request sent to
 * it fails as it would on a closed undici pool.
 */
export class LazyPool implements UpstreamPool {
  private pool: Pool | undefined = undefined;
  private ending: 'close' | 'destroy' | undefined = undefined;

  constructor(
    private readonly origin: string,
    private readonly options: Pool.Options,
  ) {}

  /** The undici pool has been made (a request needed it). */
  get isMade(): boolean {
    return this.pool !== undefined;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.made().dispatch(options, handler);
  }

  close(): Promise<void> {
    if (this.pool !== undefined) return this.pool.close();
    this.ending ??= 'close';
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    if (this.pool !== undefined) return this.pool.destroy();
    this.ending = 'destroy';
    return Promise.resolve();
  }

  private made(): Pool {
    if (this.pool === undefined) {
      const undici = require('undici') as { Pool: typeof Pool };
      const pool = new undici.Pool(this.origin, this.options);
      this.pool = pool;
      if (this.ending !== undefined) void pool[this.ending]().catch(() => undefined);
    }
    return this.pool;
  }
}
