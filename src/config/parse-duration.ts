import { InputError } from '../errors.js';
import { MAX_DURATION_MS } from './defaults.js';
import { describeValue } from './describe-value.js';

const UNITS = ['h', 'm', 's', 'ms'] as const;
type Unit = (typeof UNITS)[number];

const UNIT_MS: Record<Unit, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** One `<amount><unit>` part of a duration, e.g. `1m` or `0.5s`. */
const PART = /(\d+(?:\.\d+)?)([^\d.]*)/y;

/**
 * The grammar {@link parseDuration} accepts, as an ECMAScript pattern for the JSON Schema:
 * one or more parts, largest unit first, each unit at most once.
 */
export const DURATION_PATTERN = '^(?=\\d)(\\d+(\\.\\d+)?h)?(\\d+(\\.\\d+)?m)?(\\d+(\\.\\d+)?s)?(\\d+(\\.\\d+)?ms)?$';

const BARE_NUMBER_HINT = 'add a unit: write 30s or 500ms';
const UNITS_HINT = 'units are ms, s, m and h, largest first and without spaces, e.g. 500ms, 30s, 2m, 1h or 1m30s';

/** Thrown by {@link parseDuration}; the loader turns it into a config problem. */
export const DURATION_INVALID = 'DURATION_INVALID';

/**
 * Parses a duration written with units into milliseconds. A bare number is refused (is `10`
 * seconds or milliseconds?), as are negative, empty and sub-millisecond durations, unknown units,
 * and anything longer than 24h.
 *
 * @example parseDuration('1m30s') // 90_000
 * @example parseDuration('500ms') // 500
 * @throws InputError with code `DURATION_INVALID` and a hint.
 */
export function parseDuration(text: string | number): number {
  if (typeof text !== 'string') {
    throw invalid(`expected a duration with a unit, got the bare number ${describeValue(text)}`, BARE_NUMBER_HINT);
  }
  const shown = describeValue(text);
  if (text.trim() === '') throw invalid('expected a duration such as 30s, got an empty string', BARE_NUMBER_HINT);
  if (text.startsWith('-')) {
    throw invalid(`a duration cannot be negative, got ${shown}`, 'write a positive duration such as 30s, or 0s for none');
  }
  if (/^\d+(\.\d+)?$/.test(text)) throw invalid(`expected a duration with a unit, got ${shown}`, BARE_NUMBER_HINT);

  let totalMs = 0;
  let lastUnitIndex = -1;
  let offset = 0;
  while (offset < text.length) {
    PART.lastIndex = offset;
    const match = PART.exec(text);
    const amount = match?.[1];
    const unit = match?.[2];
    if (match === null || amount === undefined || unit === undefined || unit === '') {
      throw invalid(`expected a duration such as 30s or 1m30s, got ${shown}`, UNITS_HINT);
    }
    const unitIndex = (UNITS as readonly string[]).indexOf(unit);
    if (unitIndex === -1) {
      const message = /\s/.test(unit) ? `expected a duration such as 30s or 1m30s, got ${shown}` : `unknown unit "${unit}" in ${shown}`;
      throw invalid(message, UNITS_HINT);
    }
    if (unitIndex <= lastUnitIndex) {
      throw invalid(`units must go from largest to smallest, each at most once, got ${shown}`, UNITS_HINT);
    }
    lastUnitIndex = unitIndex;
    totalMs += Number(amount) * UNIT_MS[unit as Unit];
    offset = PART.lastIndex;
  }

  const wholeMs = Math.round(totalMs);
  if (Math.abs(totalMs - wholeMs) > 1e-6) {
    throw invalid(`durations are whole milliseconds, got ${shown}`, 'round it to whole milliseconds, e.g. 1ms');
  }
  if (wholeMs > MAX_DURATION_MS) {
    throw invalid(`${shown} is longer than the ${formatDuration(MAX_DURATION_MS)} limit`, `durations are at most ${formatDuration(MAX_DURATION_MS)}`);
  }
  return wholeMs;
}

/**
 * Writes milliseconds the way `cutover.yaml` spells durations, the inverse of
 * {@link parseDuration}.
 *
 * @example formatDuration(90_000) // '1m30s'
 * @example formatDuration(0)      // '0s'
 */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) return `${ms}ms`;
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const unit of UNITS) {
    const amount = Math.floor(rest / UNIT_MS[unit]);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * UNIT_MS[unit];
  }
  return text;
}

function invalid(message: string, hint: string): InputError {
  return new InputError(DURATION_INVALID, message, { hint });
}
