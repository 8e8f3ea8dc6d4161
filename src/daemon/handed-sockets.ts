import type { ListenAddress } from '../proxy/app-route.js';
import type { ListeningSocketSource } from '../proxy/listening-sockets.js';
import { planSocketKey } from './held-sockets.js';

/** In a proxy worker: the listening sockets its primary handed it, each listened on once. */
export class HandedSockets implements ListeningSocketSource {
  private readonly byKey = new Map<string, object>();

  add(key: string, handle: object): void {
    this.byKey.set(key, handle);
  }

  has(address: ListenAddress): boolean {
    return this.byKey.has(planSocketKey(address));
  }

  take(address: ListenAddress): object | undefined {
    const key = planSocketKey(address);
    const handle = this.byKey.get(key);
    this.byKey.delete(key);
    return handle;
  }
}
