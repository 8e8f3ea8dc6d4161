import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';
import { CutoverError } from '../errors.js';
import type { StickyAssignment } from '../model/traffic-plan.js';
import { readCookie } from './read-cookie.js';

/** A cookie name as RFC 6265 allows it (an RFC 9110 token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A sticky value the proxy accepts from a client: what it issues (16 hex digits) or an id the
 * app set itself in the same cookie, up to 64 letters, digits, `_`, `-` or `.`. Anything else
 * is replaced by a fresh value.
 */
const STICKY_VALUE = /^[0-9A-Za-z_.-]{1,64}$/;

/**
 * The cookie that keeps one client on one side of a weighted split (`TrafficPlan.sticky`).
 *
 * @example
 * const sticky = new StickyCookie({ cookie: 'cutover-web', ttlMs: 86_400_000 });
 * sticky.read(req.headers.cookie) ?? newStickyValue();
 * sticky.setCookie('0123456789abcdef');
 * // 'cutover-web=0123456789abcdef; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax'
 */
export class StickyCookie {
  readonly name: string;
  private readonly attributes: string;

  /** Throws PROXY_INVALID_PLAN for a name that cannot be a cookie name or a ttl that is not > 0. */
  constructor(sticky: StickyAssignment) {
    if (typeof sticky.cookie !== 'string' || !COOKIE_NAME.test(sticky.cookie)) {
      throw new CutoverError('PROXY_INVALID_PLAN', `sticky cookie name ${JSON.stringify(sticky.cookie)} is not a valid cookie name`, {
        hint: 'Use letters, digits and - _ . only.',
      });
    }
    if (!Number.isFinite(sticky.ttlMs) || sticky.ttlMs <= 0) {
      throw new CutoverError('PROXY_INVALID_PLAN', `sticky cookie ttlMs must be a finite number > 0, got ${String(sticky.ttlMs)}`);
    }
    this.name = sticky.cookie;
    this.attributes = `; Path=/; Max-Age=${Math.ceil(sticky.ttlMs / 1000)}; HttpOnly; SameSite=Lax`;
  }

  /** The client's sticky value from its Cookie header, or undefined when missing or invalid. */
  read(cookieHeader: string | readonly string[] | undefined): string | undefined {
    const value = readCookie(cookieHeader, this.name);
    return value !== undefined && STICKY_VALUE.test(value) ? value : undefined;
  }

  /** The Set-Cookie header value that gives a client `value`. */
  setCookie(value: string): string {
    return `${this.name}=${value}${this.attributes}`;
  }
}

// node:crypto loads at the first sticky value: a worker whose apps use no sticky split never holds it.
const require = createRequire(import.meta.url);
const VALUE_BYTES = 8;
/** Random bytes drawn from the CSPRNG in one go: one `randomBytes` call costs ~3 µs, a slice of this ~0.1 µs. */
const randomPool = Buffer.alloc(VALUE_BYTES * 512);
let randomOffset = randomPool.length;
const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** A fresh sticky value: 16 lower-case hex digits (64 random bits). */
export function newStickyValue(): string {
  if (randomOffset === randomPool.length) {
    (require('node:crypto') as typeof Crypto).randomFillSync(randomPool);
    randomOffset = 0;
  }
  let value = '';
  for (let i = randomOffset; i < randomOffset + VALUE_BYTES; i++) value += HEX_BYTES[randomPool[i]!]!;
  randomOffset += VALUE_BYTES;
  return value;
}
