import type { IncomingHttpHeaders } from 'node:http';
import type { RouteRule } from '../model/traffic-plan.js';
import { readCookie } from './read-cookie.js';

interface CompiledRule {
  readonly isCookie: boolean;
  /** Lower-cased for a header rule, as written for a cookie rule. */
  readonly name: string;
  readonly value: string;
  readonly revision: number;
}

/**
 * The header and cookie routes of one plan (`TrafficPlan.routes`), checked in order; the first
 * match wins. A header rule compares the name case-insensitively and the value exactly (as
 * Node presents it: repeated headers joined with `, `); a cookie rule compares the value of
 * the first cookie of that name exactly, without percent-decoding.
 *
 * @example
 * const matcher = createRouteMatcher(plan.routes, (revision) => groups.has(revision));
 * matcher?.match(req.headers); // the revision of the first matching rule, or undefined
 */
export class RouteMatcher {
  constructor(private readonly rules: readonly CompiledRule[]) {}

  /** The revision of the first rule the request matches, or undefined. */
  match(headers: IncomingHttpHeaders): number | undefined {
    for (const rule of this.rules) {
      if (rule.isCookie) {
        if (readCookie(headers.cookie, rule.name) === rule.value) return rule.revision;
        continue;
      }
      const value = headers[rule.name];
      if (value === rule.value || (Array.isArray(value) && value.includes(rule.value))) return rule.revision;
    }
    return undefined;
  }
}

/**
 * Compiles a plan's routes, skipping rules whose revision cannot take a request
 * (`isReachable` says no: no group, or a group without endpoints) and malformed rules.
 * Undefined when no rule is left, so a plan without routes costs nothing per request.
 */
export function createRouteMatcher(routes: readonly RouteRule[] | undefined, isReachable: (revision: number) => boolean): RouteMatcher | undefined {
  if (!Array.isArray(routes)) return undefined;
  const rules: CompiledRule[] = [];
  for (const route of routes as readonly RouteRule[]) {
    if (typeof route !== 'object' || route === null) continue;
    const rule = compileMatch(route.match);
    if (rule !== undefined && isReachable(route.revision)) rules.push({ ...rule, revision: route.revision });
  }
  return rules.length > 0 ? new RouteMatcher(rules) : undefined;
}

function compileMatch(match: RouteRule['match']): Omit<CompiledRule, 'revision'> | undefined {
  if (typeof match !== 'object' || match === null) return undefined;
  if ('header' in match && isNameAndValue(match.header)) {
    return { isCookie: false, name: match.header.name.toLowerCase(), value: match.header.value };
  }
  if ('cookie' in match && isNameAndValue(match.cookie)) {
    return { isCookie: true, name: match.cookie.name, value: match.cookie.value };
  }
  return undefined;
}

/** Plans cross process boundaries as JSON: check the shape rather than trust the type. */
function isNameAndValue(pair: unknown): pair is { name: string; value: string } {
  if (typeof pair !== 'object' || pair === null) return false;
  const { name, value } = pair as { name?: unknown; value?: unknown };
  return typeof name === 'string' && name !== '' && typeof value === 'string';
}
