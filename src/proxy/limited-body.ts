import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { CutoverError } from '../errors.js';

/**
 * A request body of unknown length (chunked) passed on with a size cap. `hasStarted` tells
 * whether the upstream pool ever read from it, i.e. whether any of the body may have left (a
 * try that never started may be retried: what was read from the client waits in this
 * stream's buffer). Going over the cap fails the stream with `PROXY_BODY_TOO_LARGE` and calls
 * `onTooLarge` once.
 */
export class LimitedBody extends Readable {
  hasStarted = false;
  /** Bytes read from the request so far. */
  received = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly onTooLarge: () => void,
  ) {
    super();
    // Listening at once: a mirror copy may read the same request body too.
    req.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      this.received += chunk.length;
      if (this.received > this.maxBytes) {
        req.pause();
        this.onTooLarge();
        this.destroy(new CutoverError('PROXY_BODY_TOO_LARGE', `the request body is over the ${this.maxBytes}-byte limit`));
        return;
      }
      if (!this.push(chunk)) req.pause();
    });
    req.once('end', () => this.push(null));
    req.once('error', (error) => this.destroy(error));
  }

  override _read(): void {
    this.hasStarted = true;
    this.req.resume();
  }
}
