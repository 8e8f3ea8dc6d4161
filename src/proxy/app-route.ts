import type { AppListener } from './app-listener.js';
import type { RoutingTable } from './routing-table.js';

/** Where an app listens: the address as the plan states it (port 0 means "any free port"). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The live state of one app in the data plane. `table` is the single reference a plan swap
 * replaces; requests read it once when they pick an endpoint.
 */
export class AppRoute {
  /** The listener serving the app; set once it listens, replaced when the address changes. */
  listener: AppListener | undefined = undefined;

  constructor(
    readonly name: string,
    public version: number,
    public table: RoutingTable,
    public listenAddress: ListenAddress,
  ) {}
}

export function listenKey(address: ListenAddress): string {
  return `${address.host}|${address.port}`;
}
