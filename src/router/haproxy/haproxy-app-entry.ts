import type { TrafficPlan } from '../../model/traffic-plan.js';
import type { AppFrontend } from './haproxy-config.js';
import { listenKey } from './haproxy-layout.js';

/** What the router keeps per app: its last plan, its frontend and which revision backend serves which revision. */
export interface AppEntry {
  plan: TrafficPlan;
  frontend: AppFrontend;
  /** Revision → index of its revision backend. */
  revisionIndex: Record<string, number>;
}

export type FrontendHints = Pick<AppFrontend, 'headerNames' | 'cookieNames' | 'stickyCookie' | 'previews'>;

/** Adds the rule names a plan (or the hints known up front) uses to the app's frontend; names are never dropped while the app lives. */
export function addRuleNames(front: AppFrontend, plan: TrafficPlan, hints: FrontendHints | undefined): void {
  front.listen = plan.listen;
  for (const name of hints?.headerNames ?? []) if (!front.headerNames.includes(name.toLowerCase())) front.headerNames.push(name.toLowerCase());
  for (const name of hints?.cookieNames ?? []) if (!front.cookieNames.includes(name)) front.cookieNames.push(name);
  for (const preview of hints?.previews ?? []) if (!front.previews.some((p) => listenKey(p) === listenKey(preview))) front.previews.push(preview);
  if (hints?.stickyCookie && front.stickyCookie === null) front.stickyCookie = hints.stickyCookie;
  for (const route of plan.routes ?? []) {
    if ('header' in route.match && !front.headerNames.includes(route.match.header.name.toLowerCase()))
      front.headerNames.push(route.match.header.name.toLowerCase());
    if ('cookie' in route.match && !front.cookieNames.includes(route.match.cookie.name)) front.cookieNames.push(route.match.cookie.name);
  }
  for (const preview of plan.previews ?? []) if (!front.previews.some((p) => listenKey(p) === listenKey(preview.listen))) front.previews.push(preview.listen);
  if (plan.sticky) front.stickyCookie = plan.sticky.cookie;
}
