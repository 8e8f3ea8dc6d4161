import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from '../errors.js';
import type { HostPort } from '../model/app-spec.js';
import { DEFAULT_LISTEN_HOST } from './defaults.js';
import { describeValue } from './describe-value.js';

export const MIN_PORT = 1;
export const MAX_PORT = 65_535;

/** Thrown by {@link parseListen}; the loader turns it into a config problem. */
export const LISTEN_INVALID = 'LISTEN_INVALID';

/** The shapes {@link parseListen} accepts, as an ECMAScript pattern for the JSON Schema. */
export const LISTEN_PATTERN = '^(\\d+|[A-Za-z0-9.-]+:\\d+|\\[[0-9A-Fa-f:.]+\\]:\\d+)$';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const LISTEN_HINT = 'write host:port such as 127.0.0.1:8080 or [::1]:8080, or just the port, e.g. 8080';

/**
 * Parses a `listen` address: `host:port`, `[ipv6]:port`, or a bare port that listens on
 * {@link DEFAULT_LISTEN_HOST}. IPv6 hosts are returned without brackets.
 *
 * @example parseListen('0.0.0.0:80') // { host: '0.0.0.0', port: 80 }
 * @example parseListen(8080)         // { host: '127.0.0.1', port: 8080 }
 * @throws InputError with code `LISTEN_INVALID` and a hint.
 */
export function parseListen(value: string | number): HostPort {
  if (typeof value === 'number') return { host: DEFAULT_LISTEN_HOST, port: parsePort(value, describeValue(value)) };
  if (/^\d+$/.test(value)) return { host: DEFAULT_LISTEN_HOST, port: parsePort(Number(value), value) };

  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value);
  if (bracketed !== null) {
    const host = bracketed[1] ?? '';
    if (!isIPv6(host)) throw invalid(`"${host}" in ${describeValue(value)} is not an IPv6 address`, 'brackets are only for IPv6 addresses, e.g. [::1]:8080');
    return { host, port: parsePortText(bracketed[2] ?? '') };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value);
  if (scheme !== null) {
    const isTls = scheme[1]!.toLowerCase() === 'https';
    throw invalid(
      `a listen address has no scheme, got ${describeValue(value)}`,
      isTls
        ? "for HTTPS, give the app hosts: [your.domain] and set proxy.listen.https (e.g. 0.0.0.0:443) with proxy.tls or the app's tls"
        : `write host:port without "${scheme[1]}://", e.g. 127.0.0.1:8080`,
    );
  }
  if (value.startsWith('[')) throw invalid(`expected [ipv6]:port, got ${describeValue(value)}`, 'e.g. [::1]:8080');

  const colon = value.lastIndexOf(':');
  if (colon === -1) throw invalid(`expected host:port or a port, got ${describeValue(value)} with no port`, LISTEN_HINT);
  const host = value.slice(0, colon);
  if (host.includes(':')) {
    throw invalid(`IPv6 addresses need brackets, got ${describeValue(value)}`, `write [${host}]:${value.slice(colon + 1)}`);
  }
  if (host === '') throw invalid(`the host is missing in ${describeValue(value)}`, LISTEN_HINT);
  checkHost(host);
  return { host, port: parsePortText(value.slice(colon + 1)) };
}

/**
 * Writes a listen address back as text, with brackets around IPv6 hosts.
 *
 * @example formatListen({ host: '::1', port: 8080 }) // '[::1]:8080'
 */
export function formatListen(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function checkHost(host: string): void {
  if (isIPv4(host)) return;
  if (/^[\d.]+$/.test(host)) {
    throw invalid(`"${host}" is not a valid IPv4 address`, 'each of the four numbers is 0 to 255, e.g. 127.0.0.1 or 0.0.0.0');
  }
  if (!HOST_NAME.test(host)) {
    throw invalid(`"${host}" is not a valid host name or IP address`, 'use an IP address such as 127.0.0.1 or 0.0.0.0, or a host name such as localhost');
  }
}

function parsePortText(text: string): number {
  if (!/^\d+$/.test(text)) throw invalid(`expected a port number after the colon, got ${describeValue(text)}`, LISTEN_HINT);
  return parsePort(Number(text), text);
}

function parsePort(port: number, shown: string): number {
  if (!Number.isInteger(port) || port < MIN_PORT || port > MAX_PORT) {
    throw invalid(`port ${shown} is out of range ${MIN_PORT}..${MAX_PORT}`, 'pick a port from 1 to 65535, e.g. 8080');
  }
  return port;
}

function invalid(message: string, hint: string): InputError {
  return new InputError(LISTEN_INVALID, message, { hint });
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/** Two listen addresses that cannot both be bound: the same port on the same host, or on any address. */
export function listensOverlap(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && (a.host === b.host || ANY_ADDRESS.has(a.host) || ANY_ADDRESS.has(b.host));
}

/** A listen value parsed, or undefined when it is not one (its own check reports why). */
export function tryParseListen(value: unknown): HostPort | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseListen(value);
  } catch {
    return undefined;
  }
}
