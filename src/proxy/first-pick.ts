import type { IncomingMessage } from 'node:http';
import type { MirrorCopy } from './mirror-copy.js';
import type { RoutingTable } from './routing-table.js';
import { newStickyValue } from './sticky-cookie.js';
import type { UpstreamTarget } from './upstream-target.js';

/** What choosing a request's first endpoint decides besides the endpoint, kept by the request for its retries and its response. */
export interface FirstPick {
  /** The revision a routed or preview request must stay in; undefined when chosen by weight. */
  pinnedRevision: number | undefined;
  /** A Set-Cookie value giving the client a fresh sticky value, when it came without one. */
  stickySetCookie: string | undefined;
  mirrorCopy: MirrorCopy | undefined;
}

/**
 * Chooses the first endpoint of a request (step 2 of `ForwardedRequest`); undefined when there
 * is none. The other decisions go into `pick`, the request itself, so nothing is allocated.
 * `req.headers` is only read when routes or a sticky cookie need it: Node builds that object
 * on first access.
 */
export function pickFirst(table: RoutingTable, previewRevision: number | undefined, req: IncomingMessage, pick: FirstPick): UpstreamTarget | undefined {
  const pinned = previewRevision ?? table.routes?.match(req.headers);
  if (pinned !== undefined) {
    pick.pinnedRevision = pinned;
    return table.pickInRevision(pinned);
  }
  const { sticky } = table;
  let target: UpstreamTarget | undefined;
  if (sticky === undefined) target = table.pick();
  else {
    let value = sticky.read(req.headers.cookie);
    if (value === undefined) {
      value = newStickyValue();
      pick.stickySetCookie = sticky.setCookie(value);
    }
    target = table.pickSticky(value);
  }
  if (target !== undefined && table.mirror !== undefined) pick.mirrorCopy = table.mirror.take(target);
  return target;
}
