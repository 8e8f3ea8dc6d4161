import { isAlive } from './daemon-lock.js';

/**
 * The daemon a restart replaced, while its proxy workers finish their connections. Those workers
 * route with the plans they held at the handover and hear of no later one: a request arriving
 * on a keep-alive connection they still hold (an idle one is left to its client, up to the
 * client keep-alive timeout) goes to an instance of those plans. So, while that daemon runs,
 * every instance of its plans counts one request in flight: a stop waits for it as for any
 * request (within the instance's drain timeout) instead of pulling the instance from under it.
 */
export class PredecessorHold {
  private isGone = false;

  constructor(
    private readonly pid: number,
    private readonly endpointIds: readonly string[],
  ) {}

  /** Adds the held instances to in-flight counts, until the predecessor has exited. */
  addTo(inflight: Record<string, number>): void {
    if (this.isGone) return;
    if (!isAlive(this.pid)) {
      this.isGone = true;
      return;
    }
    for (const id of this.endpointIds) inflight[id] = (inflight[id] ?? 0) + 1;
  }
}
