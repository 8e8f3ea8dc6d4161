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
  /** The main listener; set once it listens, replaced when the address changes. */
  listener: AppListener | undefined = undefined;
  /** Every listener of the app, the main one and the previews, by `listenerKey`. */
  listeners: ReadonlyMap<string, AppListener> = new Map();

  constructor(
    readonly name: string,
    public version: number,
    public table: RoutingTable,
  ) {}
}

export function listenKey(address: ListenAddress): string {
  return `${address.host}|${address.port}`;
}

/**
 * Identifies one listener of an app across plans: its address, or for port 0 (any free port,
 * so no fixed address) the host and the role, so a port-0 listener is kept from plan to plan.
 */
export function listenerKey(address: ListenAddress, previewRevision: number | undefined): string {
  if (address.port !== 0) return listenKey(address);
  return `${listenKey(address)}|${previewRevision === undefined ? 'main' : `preview ${previewRevision}`}`;
}
