import type http from 'node:http';
import { CutoverError } from '../errors.js';

/** The largest request body the admin API reads: a deploy of many apps is a few kilobytes. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The JSON object of a POST body (`{}` when empty). Anything else is the client's mistake and
 * answered 4xx naming it: 413 over the size limit, 400 for text that is not JSON or for JSON
 * that is not an object (`null`, a list, a number).
 */
export async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const text = await readUpTo(req, MAX_BODY_BYTES);
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CutoverError('BAD_REQUEST', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CutoverError(
      'BAD_REQUEST',
      `the request body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`,
      { hint: 'send {} or an object with the fields of this route' },
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The body as text, or BODY_TOO_LARGE past `maxBytes`. The request is then paused, not
 * destroyed (which would take the socket, and the 413, with it); the answer closes the connection.
 */
function readUpTo(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * A whole-number query parameter: `fallback` when absent, at most `max` (larger values are
 * lowered to it, as before), a 400 naming the parameter when it is not a whole number ≥ `min`.
 *
 * @example queryInteger(new URLSearchParams('limit=abc'), 'limit', { fallback: 50, min: 1, max: 500 }); // throws BAD_REQUEST
 */
export function queryInteger(query: URLSearchParams, name: string, options: { fallback: number; min: number; max?: number }): number;
export function queryInteger(query: URLSearchParams, name: string, options: { fallback?: undefined; min: number; max?: number }): number | undefined;
export function queryInteger(query: URLSearchParams, name: string, options: { fallback?: number; min: number; max?: number }): number | undefined {
  const text = query.get(name);
  if (text === null) return options.fallback;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < options.min) {
    throw new CutoverError('BAD_REQUEST', `?${name} must be a whole number ≥ ${options.min}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return options.max === undefined ? value : Math.min(options.max, value);
}

function tooLarge(): CutoverError {
  return new CutoverError('BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`, { hint: 'deploy fewer apps at a time' });
}
